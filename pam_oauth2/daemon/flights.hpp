#pragma once

#include "authenticator.hpp"
#include "metrics.hpp"

#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace pam_oauth2 {

// One verification per key (arguments, user and token, hashed) at a time, however many logins wait
// for it, and refusals remembered for a few seconds: a storm of logins with one token costs one
// provider request, and a flood of one bad token costs one too.
class Flights {
public:
    using Work = std::function<Decision()>;

    explicit Flights(Metrics& metrics) : metrics_(metrics) {}

    /// The decision for `key`: remembered, joined, or computed by `work` on a thread of its own (so a
    /// hung provider never holds a waiting login past `budget`). nullopt when the budget ran out.
    std::optional<Decision> decide(const std::string& key, Work work, std::chrono::milliseconds budget,
                                   long remember_refusal_seconds);

    /// Remembered refusals kept at most; beyond it the expired ones go, then all.
    static constexpr std::size_t max_remembered = 100000;

private:
    struct Remembered {
        Decision decision;
        std::chrono::steady_clock::time_point until;
    };
    void finish(const std::string& key, const Decision& decision, long remember_refusal_seconds);

    std::mutex mutex_;
    std::unordered_map<std::string, std::shared_future<Decision>> running_;
    std::unordered_map<std::string, Remembered> refused_;
    Metrics& metrics_;
};

} // namespace pam_oauth2
