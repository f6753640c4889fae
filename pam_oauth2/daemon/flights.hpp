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

    /// The decision for `key`: a remembered refusal; else the result of the flight already running for
    /// the key, waited for no longer than `budget` (nullopt past it); else this caller leads: `work`
    /// runs once, on the calling thread, and its result goes to every login that joined meanwhile.
    /// A leader's answer is bounded by `work` itself (the provider gate's deadline). The flight's entry
    /// is gone when the leader returns or throws, whatever `work` did (an exception becomes a decision).
    /// `remember_refusal_seconds` is read after `work` has run: the work may shorten it (a refusal
    /// another host shared, with less of its life left).
    std::optional<Decision> decide(const std::string& key, const Work& work, std::chrono::milliseconds budget,
                                   const long& remember_refusal_seconds);

    /// Remembered refusals kept at most; beyond it the expired ones go, then all.
    static constexpr std::size_t max_remembered = 100000;

private:
    struct Remembered {
        Decision decision;
        std::chrono::steady_clock::time_point until;
    };
    // A remembered refusal or a running flight for `key` (then `joined` is set), else nullopt after
    // registering `leading` as the flight for `key`.
    std::optional<Decision> remembered_or_join(const std::string& key, std::shared_future<Decision>& joined,
                                               const std::shared_ptr<std::promise<Decision>>& leading);
    // Removes the flight's entry; remembers `decision` when there is one (none: `work` escaped).
    void finish(const std::string& key, const Decision* decision, long remember_refusal_seconds) noexcept;
    void remember(const std::string& key, const Decision& decision, long remember_refusal_seconds);

    std::mutex mutex_;
    std::unordered_map<std::string, std::shared_future<Decision>> running_;
    std::unordered_map<std::string, Remembered> refused_;
    Metrics& metrics_;
};

} // namespace pam_oauth2
