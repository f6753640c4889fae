#pragma once

#include "audit.hpp"
#include "audit_syslog_sink.hpp"
#include "logger.hpp"
#include "metrics.hpp"
#include "settings.hpp"

#include <memory>
#include <mutex>
#include <string>

namespace pam_oauth2 {

// pam_oauth2d's audit trail: the sink its `audit` key names (off, syslog, or a file opened by the
// daemon's user and reopened on every SIGHUP, for log rotation). Other daemon code writes its
// events ("session_ended") through BrokerService::audit().
class DaemonAudit final : public AuditSink {
public:
    DaemonAudit(const Logger& logger, Metrics& metrics);

    /// Takes the `audit` key of a (re)loaded configuration; a file is opened again on the next event.
    void configure(const std::string& audit);
    /// Opens the file again with the key in force: SIGHUP after rotation, even when the reloaded
    /// configuration was refused.
    void reopen();
    /// The event to the daemon's sink; nothing when its audit is off.
    void write(const AuditEvent& event) noexcept override;
    /// The event of a login whose module line says `line`: the daemon's sink when its audit is on
    /// (a client cannot switch the site's trail off), else syslog when the line asks for an audit.
    /// A line's audit_file is never opened here: a client does not choose the files the daemon writes.
    void write_for_line(const AuditEvent& event, const AuditSettings& line) noexcept;
    /// This machine's host name, read once.
    [[nodiscard]] const std::string& host() const noexcept { return host_; }

private:
    [[nodiscard]] std::shared_ptr<AuditSink> sink() const;

    const Logger& logger_;
    Metrics& metrics_;
    const std::string host_;
    mutable std::mutex mutex_;
    std::string target_;              // the `audit` key in force
    std::shared_ptr<AuditSink> sink_; // null: off; replaced, never changed, so writers need no lock
    AuditSyslogSink line_syslog_;
};

} // namespace pam_oauth2
