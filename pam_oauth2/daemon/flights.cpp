#include "flights.hpp"

#include <new>

namespace pam_oauth2 {
namespace {

Decision failed(Outcome outcome, const std::string& reason)
{
    Decision decision;
    decision.outcome = outcome;
    decision.reason = reason;
    return decision;
}

Decision run_guarded(const Flights::Work& work)
{
    try {
        return work();
    } catch (const std::bad_alloc&) {
        return failed(Outcome::OutOfMemory, "memory allocation failed");
    } catch (...) {
        return failed(Outcome::InternalError, "internal error (unexpected exception)");
    }
}

} // namespace

std::optional<Decision> Flights::decide(const std::string& key, const Work& work, std::chrono::milliseconds budget,
                                        const long& remember_refusal_seconds)
{
    auto leading = std::make_shared<std::promise<Decision>>();
    std::shared_future<Decision> joined;
    if (auto remembered = remembered_or_join(key, joined, leading)) {
        return remembered;
    }
    if (joined.valid()) {
        if (joined.wait_for(budget) != std::future_status::ready) {
            return std::nullopt;
        }
        try {
            return joined.get();
        } catch (...) { // the leader could not hand its decision over (out of memory)
            return failed(Outcome::InternalError, "internal error (the verification in flight was lost)");
        }
    }
    // run_guarded turns what `work` throws into a decision, but its handlers allocate (the reason)
    // and an exception object's destructor may throw: whatever leaves here, the entry goes with it,
    // or every later login with this key would join a flight that never lands.
    struct Landing {
        Flights& flights;
        const std::string& key;
        bool landed = false;
        ~Landing()
        {
            if (!landed) {
                flights.finish(key, nullptr, 0);
            }
        }
    } landing{*this, key};
    Decision decision = run_guarded(work);
    landing.landed = true;
    finish(key, &decision, remember_refusal_seconds);
    try {
        leading->set_value(decision);
    } catch (...) { // followers see a broken promise: an internal error above, never a hang
    }
    return decision;
}

std::optional<Decision> Flights::remembered_or_join(const std::string& key, std::shared_future<Decision>& joined,
                                                    const std::shared_ptr<std::promise<Decision>>& leading)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto remembered = refused_.find(key);
    if (remembered != refused_.end()) {
        if (remembered->second.until > std::chrono::steady_clock::now()) {
            metrics_.refusal_remembered();
            Decision decision = remembered->second.decision;
            decision.reason += " (remembered)";
            return decision;
        }
        refused_.erase(remembered);
    }
    const auto running = running_.find(key);
    if (running != running_.end()) {
        metrics_.coalesced();
        joined = running->second;
        return std::nullopt;
    }
    running_.emplace(key, leading->get_future().share());
    metrics_.in_flight.fetch_add(1);
    return std::nullopt;
}

void Flights::finish(const std::string& key, const Decision* decision, long remember_refusal_seconds) noexcept
{
    const std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(key);
    metrics_.in_flight.fetch_sub(1);
    try {
        if (decision != nullptr) {
            remember(key, *decision, remember_refusal_seconds);
        }
    } catch (...) { // remembering is an economy; without memory the next login asks again
    }
}

void Flights::remember(const std::string& key, const Decision& decision, long remember_refusal_seconds)
{
    // Only refusals are remembered here; grants are kept by the verdict cache, bounded by exp.
    if (decision.outcome != Outcome::Denied || remember_refusal_seconds <= 0) {
        return;
    }
    if (refused_.size() >= max_remembered) {
        const auto now = std::chrono::steady_clock::now();
        for (auto it = refused_.begin(); it != refused_.end();) {
            it = it->second.until <= now ? refused_.erase(it) : std::next(it);
        }
        if (refused_.size() >= max_remembered) {
            refused_.clear();
        }
    }
    refused_[key] = {decision, std::chrono::steady_clock::now() + std::chrono::seconds(remember_refusal_seconds)};
}

} // namespace pam_oauth2
