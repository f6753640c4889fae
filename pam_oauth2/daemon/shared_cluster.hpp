#pragma once

#include "circuit_breaker.hpp"
#include "redis_cluster.hpp"
#include "redis_pool.hpp"

#include <mutex>
#include <string_view>
#include <vector>

namespace pam_oauth2 {

// A Redis Cluster for the shared cache: RedisClusterClient (MOVED and ASK followed, one connection
// per node) is not shared between threads, so its commands take turns, each waiting for its turn
// only until its own deadline; behind the same kind of circuit breaker as the pool. `settings`'s
// password must outlive it.
class SharedClusterClient {
public:
    SharedClusterClient(std::vector<shared_cache::RedisHost> seeds, shared_cache::RedisConnectionSettings settings,
                        shared_cache::RedisPool::StateListener on_change);

    /// One single-key command; a failure (the breaker open, the turn not come by the deadline, the
    /// connection's, an error reply) is a miss for the caller.
    Fallible<shared_cache::RedisReply> command(std::string_view key, const std::vector<std::string_view>& arguments,
                                               shared_cache::Deadline deadline);

private:
    void record(bool success);

    std::timed_mutex turn_;
    shared_cache::RedisClusterClient client_;
    shared_cache::CircuitBreaker breaker_{shared_cache::CircuitBreaker::Settings{}};
    shared_cache::RedisPool::StateListener on_change_;
};

} // namespace pam_oauth2
