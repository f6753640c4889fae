#include "shared_cluster.hpp"

#include <utility>

namespace pam_oauth2 {

namespace sc = shared_cache;

SharedClusterClient::SharedClusterClient(std::vector<sc::RedisHost> seeds, sc::RedisConnectionSettings settings,
                                         sc::RedisPool::StateListener on_change)
    : client_(std::move(seeds), std::move(settings)), on_change_(std::move(on_change))
{
}

void SharedClusterClient::record(bool success)
{
    const auto changed =
        success ? breaker_.record_success() : breaker_.record_failure(sc::CircuitBreaker::Clock::now());
    if (changed && on_change_) {
        on_change_(*changed);
    }
}

Fallible<sc::RedisReply> SharedClusterClient::command(std::string_view key,
                                                      const std::vector<std::string_view>& arguments,
                                                      sc::Deadline deadline)
{
    if (!breaker_.allow(sc::CircuitBreaker::Clock::now())) {
        return Failure{"the shared cache's breaker is open"};
    }
    if (!turn_.try_lock_until(deadline)) {
        // Waiting for other logins says nothing about Redis, so the breaker is told nothing (a trial
        // allowed in HalfOpen and not reported is replaced after the breaker's open_for).
        return Failure{"the shared cache is busy"};
    }
    const std::lock_guard<std::timed_mutex> held(turn_, std::adopt_lock);
    auto reply = client_.command(key, arguments, deadline);
    record(reply.ok() && !reply.value().is_error());
    return reply;
}

} // namespace pam_oauth2
