#pragma once

#include "fallible.hpp"
#include "redis_connection.hpp"
#include "redis_endpoint.hpp"

#include <memory>

namespace pam_oauth2::shared_cache {

/// How to reach the Sentinels of an endpoint and the primary they name. The Sentinels are asked
/// with `sentinel` (TLS as for the primary; a user and password only if the Sentinels have one);
/// the primary is opened with `primary` (its host replaced by the discovered address).
struct SentinelSettings {
    RedisConnectionSettings sentinel;
    RedisConnectionSettings primary;
};

/// Asks the endpoint's Sentinels in their order (each given an equal share of what is left of the
/// time budget, so one hung Sentinel cannot spend all of it) for the primary of
/// `endpoint.master_name` (SENTINEL get-master-addr-by-name). The first address wins.
Fallible<RedisHost> discover_primary(const RedisEndpoint& endpoint, const RedisConnectionSettings& sentinel,
                                     Deadline deadline);

/// Discovers the primary, connects to it (AUTH, SELECT) and checks with ROLE that it is a primary
/// still: a Sentinel's answer may be stale during a failover, and a replica must not be written to.
Fallible<std::unique_ptr<RedisConnection>> open_primary(const RedisEndpoint& endpoint, const SentinelSettings& settings,
                                                        Deadline deadline);

} // namespace pam_oauth2::shared_cache
