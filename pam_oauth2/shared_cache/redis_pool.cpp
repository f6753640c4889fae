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
        std::unique_lock<std::mutex> lock(mutex_);
        // An idle connection, else a new one while fewer than max_open live, else wait for one to
        // come back: a login storm must not open a connection per login on Redis.
        const bool ready =
            returned_.wait_until(lock, deadline, [this] { return !idle_.empty() || live_ < settings_.max_open; });
        if (!ready) {
            return Failure{"shared cache: all " + std::to_string(settings_.max_open) +
                           " connections stayed busy for the whole time budget"};
        }
        if (!idle_.empty()) {
            auto connection = std::move(idle_.back());
            idle_.pop_back();
            return connection;
        }
        ++live_;
        ++opened_;
    }
    // Opened outside the lock: other threads keep using the idle connections meanwhile.
    auto opened = opener_(deadline);
    if (!opened.ok()) {
        forget(1);
    }
    return opened;
}

void RedisPool::forget(std::size_t count)
{
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        live_ -= count;
    }
    returned_.notify_all();
}

void RedisPool::give_back(std::unique_ptr<RedisConnection> connection, bool keep)
{
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (keep && connection->usable() && idle_.size() < settings_.max_idle) {
            idle_.push_back(std::move(connection));
        } else {
            --live_;
        }
    }
    returned_.notify_one();
}

void RedisPool::drop_idle()
{
    std::vector<std::unique_ptr<RedisConnection>> dropped;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        dropped.swap(idle_);
    }
    forget(dropped.size());
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
    const bool demoted = reply.ok() && reply.value().is_error() && reply.value().text.rfind("READONLY", 0) == 0;
    give_back(std::move(connection).value(), !demoted);
    if (!reply.ok()) {
        record(false);
        return reply;
    }
    if (demoted) {
        // The primary was demoted: this connection and its idle siblings point at a replica now.
        drop_idle();
        record(false);
        return Failure{"shared cache: the server is a replica now (" + reply.value().text + ")"};
    }
    record(true);
    return reply;
}

} // namespace pam_oauth2::shared_cache
