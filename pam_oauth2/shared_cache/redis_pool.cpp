#include "redis_pool.hpp"

namespace pam_oauth2::shared_cache {

RedisPool::RedisPool(Opener opener, Settings settings, StateListener on_change)
    : opener_(std::move(opener)), settings_(settings), on_change_(std::move(on_change)), breaker_(settings.breaker)
{
}

std::size_t RedisPool::opened() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return opened_;
}

void RedisPool::record(bool success)
{
    const auto changed = success ? breaker_.record_success() : breaker_.record_failure(CircuitBreaker::Clock::now());
    if (changed && on_change_) {
        on_change_(*changed);
    }
}

Fallible<std::unique_ptr<RedisConnection>> RedisPool::take(Deadline deadline)
{
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (!idle_.empty()) {
            auto connection = std::move(idle_.back());
            idle_.pop_back();
            return connection;
        }
        ++opened_;
    }
    // Opened outside the lock: other threads keep using the idle connections meanwhile.
    return opener_(deadline);
}

void RedisPool::give_back(std::unique_ptr<RedisConnection> connection)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    if (connection->usable() && idle_.size() < settings_.max_idle) {
        idle_.push_back(std::move(connection));
    }
}

Fallible<RedisReply> RedisPool::command(const std::vector<std::string_view>& arguments, Deadline deadline)
{
    if (!breaker_.allow(CircuitBreaker::Clock::now())) {
        return Failure{"shared cache: not tried (circuit breaker open after repeated failures)"};
    }
    auto connection = take(deadline);
    if (!connection.ok()) {
        record(false);
        return Failure{connection.error()};
    }
    auto reply = connection.value()->command(arguments, deadline);
    if (!reply.ok()) {
        record(false);
        return reply;
    }
    if (reply.value().is_error() && reply.value().text.rfind("READONLY", 0) == 0) {
        // The primary was demoted: this connection and its idle siblings point at a replica now.
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            idle_.clear();
        }
        record(false);
        return Failure{"shared cache: the server is a replica now (" + reply.value().text + ")"};
    }
    record(true);
    give_back(std::move(connection).value());
    return reply;
}

} // namespace pam_oauth2::shared_cache
