#include "refusal_log.hpp"

#include <syslog.h>

namespace pam_oauth2 {
namespace {

std::string connections(std::size_t count)
{
    return std::to_string(count) + (count == 1 ? " connection" : " connections");
}

} // namespace

RefusalLog::RefusalLog(const Logger& logger, Clock clock, Limits limits)
    : logger_(logger), clock_(std::move(clock)), limits_(limits)
{
}

RefusalLog::~RefusalLog()
{
    flush();
}

void RefusalLog::flush() noexcept
{
    std::vector<std::string> lines;
    try {
        const std::lock_guard<std::mutex> lock(mutex_);
        lines = close_interval(clock_());
    } catch (...) { // a summary lost at exit; nothing else to do about it
    }
    write(lines);
}

void RefusalLog::refused(uid_t uid, const std::string& reason, const std::string& line) noexcept
{
    std::vector<std::string> lines;
    try {
        const std::lock_guard<std::mutex> lock(mutex_);
        const auto now = clock_();
        lines = close_interval_if_over(now);
        if (!started_) {
            started_ = now;
        }
        Key key{uid, reason};
        auto found = counts_.find(key);
        if (found == counts_.end() && counts_.size() >= limits_.uids_tracked) {
            ++others_; // counted together, summarised in one line
        } else {
            if (found == counts_.end()) {
                found = counts_.emplace(std::move(key), Count{}).first;
            }
            Count& count = found->second;
            ++count.total;
            if (count.total == 1 && lines_ < limits_.lines_per_interval) {
                ++lines_;
                lines.push_back(line);
            } else {
                ++count.unlogged;
            }
        }
    } catch (...) { // out of memory: this refusal goes uncounted rather than fail the connection's end
    }
    write(lines);
}

void RefusalLog::tick() noexcept
{
    std::vector<std::string> lines;
    try {
        const std::lock_guard<std::mutex> lock(mutex_);
        lines = close_interval_if_over(clock_());
    } catch (...) { // out of memory: the summary comes with a later tick or not at all
    }
    write(lines);
}

std::vector<std::string> RefusalLog::close_interval_if_over(std::chrono::steady_clock::time_point now)
{
    if (started_ && now - *started_ >= limits_.interval) {
        return close_interval(now);
    }
    return {};
}

std::vector<std::string> RefusalLog::close_interval(std::chrono::steady_clock::time_point now)
{
    std::vector<std::string> lines;
    if (!started_) {
        return lines;
    }
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - *started_).count();
    const std::string last = " refused in the last " + std::to_string(seconds) + " s";
    std::size_t other_connections = others_;
    std::size_t other_uids = others_ == 0 ? 0 : 1; // uids beyond the tracked ones: at least one
    for (const auto& [key, count] : counts_) {
        if (count.unlogged == 0) {
            continue; // its only refusal was logged at once
        }
        if (lines.size() < limits_.lines_per_interval) {
            lines.push_back(connections(count.total) + " of uid " + std::to_string(key.first) + last + " (" +
                            key.second + ")");
        } else {
            other_connections += count.total;
            ++other_uids;
        }
    }
    if (other_connections > 0) {
        lines.push_back(connections(other_connections) + " of " + (others_ == 0 ? "" : "at least ") +
                        std::to_string(other_uids) + " more uids or reasons" + last);
    }
    started_.reset();
    counts_.clear();
    others_ = 0;
    lines_ = 0;
    return lines;
}

void RefusalLog::write(const std::vector<std::string>& lines) const noexcept
{
    for (const auto& line : lines) {
        try {
            logger_.log(LOG_WARNING, line);
        } catch (...) { // a sink that fails loses the line, never the connection
        }
    }
}

} // namespace pam_oauth2
