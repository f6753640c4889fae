#include "circuit_breaker.hpp"

#include <algorithm>

namespace pam_oauth2::shared_cache {

std::optional<CircuitBreaker::State> CircuitBreaker::move_to(State next)
{
    if (next == state_) {
        return std::nullopt;
    }
    state_ = next;
    return next;
}

bool CircuitBreaker::allow(Clock::time_point now)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    switch (state_) {
    case State::Closed: return true;
    case State::Open:
        if (now < open_until_) {
            return false;
        }
        state_ = State::HalfOpen;
        trial_started_ = now;
        return true;
    case State::HalfOpen:
        // One trial at a time; a trial that never reported back is replaced after open_for.
        if (now < trial_started_ + open_for_) {
            return false;
        }
        trial_started_ = now;
        return true;
    }
    return false;
}

std::optional<CircuitBreaker::State> CircuitBreaker::record_success()
{
    const std::lock_guard<std::mutex> lock(mutex_);
    failures_ = 0;
    open_for_ = settings_.open_for;
    return move_to(State::Closed);
}

std::optional<CircuitBreaker::State> CircuitBreaker::record_failure(Clock::time_point now)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    if (state_ == State::HalfOpen) {
        // The trial failed: wait longer before the next one.
        open_for_ = std::min(open_for_ * 2, settings_.max_open_for);
        open_until_ = now + open_for_;
        return move_to(State::Open);
    }
    if (state_ == State::Open) {
        return std::nullopt; // a call allowed before the breaker opened, finishing late
    }
    if (++failures_ < settings_.failures_to_open) {
        return std::nullopt;
    }
    open_until_ = now + open_for_;
    return move_to(State::Open);
}

CircuitBreaker::State CircuitBreaker::state() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return state_;
}

const char* name(CircuitBreaker::State state)
{
    switch (state) {
    case CircuitBreaker::State::Closed: return "closed";
    case CircuitBreaker::State::Open: return "open";
    case CircuitBreaker::State::HalfOpen: return "half-open";
    }
    return "unknown";
}

} // namespace pam_oauth2::shared_cache
