#pragma once

#include "circuit_breaker.hpp"
#include "fallible.hpp"
#include "redis_connection.hpp"

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace pam_oauth2::shared_cache {

/// A few connections to one Redis endpoint shared by the daemon's threads, behind a circuit
/// breaker. A command takes an idle connection (or opens one with `opener`: a plain connection, or
/// one through Sentinel discovery; at most max_open at once, else it waits by its deadline), and
/// gives it back when it is still usable. While the breaker is
/// open a command fails at once, touching no socket. A -READONLY reply (a primary demoted in a
/// failover) drops every idle connection, so the next ones are opened afresh (and rediscovered).
class RedisPool {
public:
    using Opener = std::function<Fallible<std::unique_ptr<RedisConnection>>(Deadline)>;
    /// Told of each change of the breaker's state (one log line each, not one per login).
    using StateListener = std::function<void(CircuitBreaker::State)>;

    struct Settings {
        std::size_t max_idle = 4; ///< kept open between commands
        std::size_t max_open = 8; ///< open at once; beyond, a command waits (by its deadline) for one
        CircuitBreaker::Settings breaker;
    };

    RedisPool(Opener opener, Settings settings, StateListener on_change = {});

    /// One command. Failures (the breaker open, the connection's) are misses for the caller.
    Fallible<RedisReply> command(const std::vector<std::string_view>& arguments, Deadline deadline);

    [[nodiscard]] CircuitBreaker::State breaker_state() const { return breaker_.state(); }
    /// Connections opened or tried so far (for tests and metrics).
    [[nodiscard]] std::size_t opened() const;

private:
    Fallible<std::unique_ptr<RedisConnection>> take(Deadline deadline);
    void give_back(std::unique_ptr<RedisConnection> connection, bool keep);
    void forget(std::size_t count);
    void drop_idle();
    void record(bool success);

    Opener opener_;
    Settings settings_;
    StateListener on_change_;
    CircuitBreaker breaker_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<RedisConnection>> idle_;
    std::condition_variable returned_;
    std::size_t live_ = 0; ///< idle and in use
    std::size_t opened_ = 0;
};

} // namespace pam_oauth2::shared_cache
