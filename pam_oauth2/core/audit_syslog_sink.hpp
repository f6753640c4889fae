#pragma once

#include "audit.hpp"

#include <string>

namespace pam_oauth2 {

/// What every audit line sent to syslog starts with, so rsyslog and journald can route it.
inline constexpr const char* audit_syslog_prefix = "pam_oauth2 audit: ";

// Sends each event to syslog(3) at LOG_AUTHPRIV|LOG_INFO, as audit_syslog_prefix and the JSON object.
// No openlog: in a host process (sshd, postgres) the host's identity and options stay as they are.
class AuditSyslogSink final : public AuditSink {
public:
    using Writer = void (*)(int priority, const std::string& message);

    /// `writer` stands in for syslog(3) in tests.
    explicit AuditSyslogSink(Writer writer = nullptr) : writer_(writer) {}

    void write(const AuditEvent& event) noexcept override;

private:
    Writer writer_;
};

} // namespace pam_oauth2
