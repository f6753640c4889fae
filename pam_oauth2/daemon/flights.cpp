#include "flights.hpp"

#include <new>
#include <thread>

namespace pam_oauth2 {
namespace {

Decision run_guarded(const Flights::Work& work)
{
    try {
        return work();
    } catch (const std::bad_alloc&) {
        Decision decision;
        decision.outcome = Outcome::OutOfMemory;
        decision.reason = "memory allocation failed";
        return decision;
    } catch (...) {
        Decision decision;
        decision.outcome = Outcome::InternalError;
        decision.reason = "internal error (unexpected exception)";
        return decision;
    }
}

} // namespace

std::optional<Decision> Flights::decide(const std::string& key, Work work, std::chrono::milliseconds budget,
                                        long remember_refusal_seconds)
{
    const auto now = std::chrono::steady_clock::now();
    std::shared_future<Decision> result;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        const auto remembered = refused_.find(key);
        if (remembered != refused_.end()) {
            if (remembered->second.until > now) {
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
            result = running->second;
        } else {
            auto promise = std::make_shared<std::promise<Decision>>();
            result = promise->get_future().share();
            running_.emplace(key, result);
            metrics_.in_flight.fetch_add(1);
            std::thread([this, key, promise, work = std::move(work), remember_refusal_seconds] {
                const Decision decision = run_guarded(work);
                finish(key, decision, remember_refusal_seconds);
                promise->set_value(decision);
            }).detach();
        }
    }
    if (result.wait_for(budget) != std::future_status::ready) {
        return std::nullopt;
    }
    return result.get();
}

void Flights::finish(const std::string& key, const Decision& decision, long remember_refusal_seconds)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(key);
    metrics_.in_flight.fetch_sub(1);
    // Only refusals are remembered here; grants are kept by the verdict cache, bounded by exp.
    if (decision.outcome == Outcome::Denied && remember_refusal_seconds > 0) {
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
}

} // namespace pam_oauth2
