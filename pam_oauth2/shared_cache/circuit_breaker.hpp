#pragma once

#include <chrono>
#include <mutex>
#include <optional>

namespace pam_oauth2::shared_cache {

/// Stops a failing shared cache from costing every login its time budget: after `failures_to_open`
/// failures in a row no call is allowed for `open_for`; then one trial call is let through (the
/// others still wait), and its success closes the breaker while its failure opens it again for
/// twice as long, up to `max_open_for`. Times are passed in, so the logic is testable without
/// sleeping. Thread-safe.
class CircuitBreaker {
public:
    using Clock = std::chrono::steady_clock;
    enum class State { Closed, Open, HalfOpen };

    struct Settings {
        int failures_to_open = 3;
        std::chrono::milliseconds open_for{5000};
        std::chrono::milliseconds max_open_for{60000};
    };

    explicit CircuitBreaker(Settings settings) : settings_(settings), open_for_(settings.open_for) {}

    /// Whether a call may go to Redis now. In HalfOpen, true for the one trial only.
    bool allow(Clock::time_point now);
    /// The outcome of an allowed call; the new state when it changed (one log line per change). The
    /// step from Open to HalfOpen, taken in allow(), is not reported: nothing acts on it.
    std::optional<State> record_success();
    std::optional<State> record_failure(Clock::time_point now);

    [[nodiscard]] State state() const;

private:
    std::optional<State> move_to(State next);

    mutable std::mutex mutex_;
    Settings settings_;
    State state_ = State::Closed;
    int failures_ = 0;
    Clock::time_point trial_started_{};
    Clock::time_point open_until_{};
    std::chrono::milliseconds open_for_;
};

/// "closed", "open", "half-open": for log lines and metrics.
const char* name(CircuitBreaker::State state);

} // namespace pam_oauth2::shared_cache
