#pragma once

#include "audit.hpp"
#include "logger.hpp"
#include "unique_fd.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace pam_oauth2 {

// Appends each event as one line to a file: opened O_APPEND|O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK, created
// 0600 when missing, a regular file only (a FIFO could block a login). One write(2) per line, so
// lines of concurrent writers (threads, or processes with their own sink) never interleave. A
// failure is counted and reported through `logger` at most once a minute; the login goes on.
class AuditFileSink final : public AuditSink {
public:
    /// `on_failure` (optional) is told of each event not written, e.g. to count it in metrics.
    AuditFileSink(std::string path, Logger logger, std::function<void()> on_failure = {});
    AuditFileSink(const AuditFileSink&) = delete;
    AuditFileSink& operator=(const AuditFileSink&) = delete;
    ~AuditFileSink() override = default;

    void write(const AuditEvent& event) noexcept override;
    /// Closes the file; the next event opens the path again (after rotation: SIGHUP to pam_oauth2d).
    void reopen() noexcept;
    /// Events that could not be written whole since this sink was made.
    [[nodiscard]] std::uint64_t failures() const noexcept { return failures_.load(); }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    // Why the file cannot be written, or empty once `fd_` is open; under `mutex_`.
    std::string open_locked();
    void failed_locked(const std::string& why) noexcept;

    const std::string path_;
    const Logger logger_;
    const std::function<void()> on_failure_;
    std::mutex mutex_;
    UniqueFd fd_{-1};
    std::atomic<std::uint64_t> failures_{0};
    std::uint64_t unreported_ = 0;
    std::chrono::steady_clock::time_point reported_{};
    bool ever_reported_ = false;
};

} // namespace pam_oauth2
