#include "audit_file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace pam_oauth2 {
namespace {

// At most one line about failed writes per interval, whatever the number of logins.
constexpr std::chrono::seconds report_interval{60};

} // namespace

AuditFileSink::AuditFileSink(std::string path, Logger logger, std::function<void()> on_failure)
    : path_(std::move(path)), logger_(std::move(logger)), on_failure_(std::move(on_failure))
{
}

std::string AuditFileSink::open_locked()
{
    // O_NONBLOCK only matters for what is not a regular file (a FIFO would wait for a reader); such a
    // path is refused below.
    const int fd =
        ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
    if (fd < 0) {
        return std::string("cannot open: ") + std::strerror(errno);
    }
    UniqueFd opened(fd);
    struct stat status {};
    if (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
        return "not a regular file";
    }
    fd_ = std::move(opened);
    return {};
}

void AuditFileSink::write(const AuditEvent& event) noexcept
{
    try {
        std::string line = format_audit_event(event);
        line += '\n';
        const std::lock_guard<std::mutex> lock(mutex_);
        if (fd_.get() < 0) {
            if (const std::string why = open_locked(); !why.empty()) {
                failed_locked(why);
                return;
            }
        }
        ssize_t written = -1;
        do {
            written = ::write(fd_.get(), line.data(), line.size());
        } while (written < 0 && errno == EINTR);
        if (written != static_cast<ssize_t>(line.size())) {
            // Never a second write for the rest: it could land between another writer's lines.
            failed_locked(written < 0 ? std::string("write: ") + std::strerror(errno) : std::string("short write"));
        }
    } catch (...) {
        failures_.fetch_add(1);
    }
}

void AuditFileSink::reopen() noexcept
{
    const std::lock_guard<std::mutex> lock(mutex_);
    fd_ = UniqueFd(-1);
}

void AuditFileSink::failed_locked(const std::string& why) noexcept
{
    failures_.fetch_add(1);
    ++unreported_;
    if (on_failure_) {
        on_failure_();
    }
    const auto now = std::chrono::steady_clock::now();
    if (ever_reported_ && now - reported_ < report_interval) {
        return;
    }
    try {
        logger_.log(LOG_ERR, "audit: " + std::to_string(unreported_) + " event(s) not written to " + log_value(path_) +
                                 " (" + why + "); logins go on");
    } catch (...) {
        return; // counted all the same
    }
    unreported_ = 0;
    reported_ = now;
    ever_reported_ = true;
}

} // namespace pam_oauth2
