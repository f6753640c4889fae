#include "daemon_audit.hpp"

#include "audit_file_sink.hpp"
#include "audit_login.hpp"

namespace pam_oauth2 {

DaemonAudit::DaemonAudit(const Logger& logger, Metrics& metrics)
    : logger_(logger), metrics_(metrics), host_(audit_host_name())
{
}

void DaemonAudit::configure(const std::string& audit)
{
    std::shared_ptr<AuditSink> sink;
    if (audit == "syslog") {
        sink = std::make_shared<AuditSyslogSink>();
    } else if (!audit.empty() && audit.front() == '/') {
        // A new sink, so the path is opened again: after logrotate moved the file, SIGHUP starts a
        // new one. Writers still holding the old sink finish on the old file.
        sink = std::make_shared<AuditFileSink>(audit, logger_, [this] { metrics_.audit_failed(); });
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    target_ = audit;
    sink_ = std::move(sink);
}

void DaemonAudit::reopen()
{
    std::string target;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        target = target_;
    }
    configure(target);
}

std::shared_ptr<AuditSink> DaemonAudit::sink() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return sink_;
}

void DaemonAudit::write(const AuditEvent& event) noexcept
{
    if (const auto current = sink()) {
        current->write(event);
    }
}

void DaemonAudit::write_for_line(const AuditEvent& event, const AuditSettings& line) noexcept
{
    if (const auto current = sink()) {
        current->write(event);
    } else if (line.target != AuditTarget::Off) {
        line_syslog_.write(event);
    }
}

} // namespace pam_oauth2
