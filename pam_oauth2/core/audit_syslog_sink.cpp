#include "audit_syslog_sink.hpp"

#include <syslog.h>

namespace pam_oauth2 {

void AuditSyslogSink::write(const AuditEvent& event) noexcept
{
    try {
        const std::string message = audit_syslog_prefix + format_audit_event(event);
        const int priority = LOG_AUTHPRIV | LOG_INFO;
        if (writer_ != nullptr) {
            writer_(priority, message);
        } else {
            syslog(priority, "%s", message.c_str());
        }
    } catch (...) {
        return; // out of memory formatting: the decision line was written all the same
    }
}

} // namespace pam_oauth2
