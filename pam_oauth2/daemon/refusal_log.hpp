#pragma once

#include "logger.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pam_oauth2 {

// How much a RefusalLog writes.
struct RefusalLimits {
    std::chrono::seconds interval{60};
    std::size_t lines_per_interval = 10; // at once, and again in summaries, plus one "others" line
    std::size_t uids_tracked = 1024;     // distinct (uid, reason) counted one by one; the rest together
};

// The daemon's lines about connections it refuses (a peer not in allow_users, a protocol error, a
// peer over its cap), rate-limited and aggregated: any local user can connect thousands of times a
// second, and one line per connection would make journald drop the decision lines that matter.
// The first refusal of a uid for a reason in an interval is logged at once; later ones are counted
// and summarised when the interval is over ("N connections of uid U refused in the last 60 s
// (reason)"), and the lines per interval are capped whatever the number of uids. Decision lines
// never pass through here, so nothing here can delay or drop one.
class RefusalLog {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    using Limits = RefusalLimits;

    explicit RefusalLog(const Logger& logger, Clock clock = std::chrono::steady_clock::now, Limits limits = {});
    RefusalLog(const RefusalLog&) = delete;
    RefusalLog& operator=(const RefusalLog&) = delete;
    /// Writes what is still counted, so a flood just before a stop is not lost.
    ~RefusalLog();

    /// One refused connection of `uid` for `reason` (a few words, fixed by the caller: "not in
    /// allow_users"); `line` is what is logged when this one is logged at once. Never throws.
    void refused(uid_t uid, const std::string& reason, const std::string& line) noexcept;
    /// Writes the summaries of an interval that is over; called on every connection so they come
    /// soon after the interval ends. Never throws.
    void tick() noexcept;
    /// Writes every count now, interval over or not (the daemon stops with _Exit, without destructors).
    void flush() noexcept;

private:
    struct Count {
        std::size_t total = 0;
        std::size_t unlogged = 0;
    };
    using Key = std::pair<uid_t, std::string>;
    // The summary lines of the interval that began at `started_`, the counts reset.
    std::vector<std::string> close_interval(std::chrono::steady_clock::time_point now);
    // close_interval when the interval that began at `started_` is over, else nothing.
    std::vector<std::string> close_interval_if_over(std::chrono::steady_clock::time_point now);
    void write(const std::vector<std::string>& lines) const noexcept;

    const Logger& logger_;
    Clock clock_;
    Limits limits_;
    std::mutex mutex_;
    std::optional<std::chrono::steady_clock::time_point> started_; // none while nothing is counted
    std::map<Key, Count> counts_;
    std::size_t others_ = 0; // refusals beyond uids_tracked
    std::size_t lines_ = 0;  // written at once in this interval
};

} // namespace pam_oauth2
