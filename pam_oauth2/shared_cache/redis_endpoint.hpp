#pragma once

#include "fallible.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pam_oauth2::shared_cache {

/// One address of a Redis server or Sentinel: a host name or an IP literal (IPv6 without its
/// brackets) and a port.
struct RedisHost {
    std::string host;
    std::uint16_t port = 0;
};

/// How the addresses of an endpoint are used.
enum class RedisTopology {
    Standalone, ///< one server: redis://host:port/db
    Sentinel,   ///< Sentinels that name the primary of `master_name`: redis+sentinel://h1,h2/name/db
    Cluster,    ///< seed nodes of a Redis Cluster (database 0 only): redis+cluster://h1,h2
};

/// A parsed `shared_cache = ...` value. The password never appears in it: it comes from a file.
struct RedisEndpoint {
    RedisTopology topology = RedisTopology::Standalone;
    bool tls = false; ///< rediss:// (TLS to every address, Sentinels included)
    std::string user; ///< ACL user, empty for the default user
    std::vector<RedisHost> hosts;
    std::string master_name; ///< Sentinel only
    int database = 0;
};

/// Parses
///   redis[s]://[user@]host[:port][/db]                      (port 6379)
///   redis[s]+sentinel://[user@]h1[:port],h2[:port]/master-name[/db]  (port 26379)
///   redis[s]+cluster://[user@]h1[:port],h2[:port][/0]       (port 6379)
/// with IPv6 literals in brackets. A password in the URL, a query, a fragment, an empty or
/// malformed host, a port outside 1..65535 and a database outside 0..15 (Redis's default
/// `databases 16`; a cluster has only 0) are each refused with a reason naming the part.
Fallible<RedisEndpoint> parse_redis_endpoint(std::string_view text);

/// "host:port", with brackets around an IPv6 literal: for log lines and errors.
std::string display(const RedisHost& host);

} // namespace pam_oauth2::shared_cache
