#include "audit_login.hpp"

#include "audit_file_sink.hpp"
#include "audit_syslog_sink.hpp"
#include "outcome.hpp"

#include <unistd.h>

#include <climits>

namespace pam_oauth2 {

AuditEvent login_audit_event(const LoginResult& result, std::string service, std::string host, long long now)
{
    AuditEvent event;
    event.event = "login";
    event.time = now;
    event.host = std::move(host);
    event.service = std::move(service);
    event.user = result.record.user; // empty when the decision found it unfit to log
    event.result = result_word(result.record.outcome);
    event.reason = result.record.reason;
    event.method = result.record.method == "none" ? std::string() : result.record.method;
    event.token_fingerprint = result.record.token_fingerprint;
    event.rhost = result.record.rhost;
    event.identity = result.identity;
    return event;
}

std::string audit_host_name()
{
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof name - 1) != 0) {
        return {};
    }
    return name;
}

std::unique_ptr<AuditSink> make_audit_sink(const AuditSettings& settings, const Logger& logger)
{
    switch (settings.target) {
    case AuditTarget::Syslog: return std::make_unique<AuditSyslogSink>();
    case AuditTarget::File: return std::make_unique<AuditFileSink>(settings.file, logger);
    case AuditTarget::Off: break;
    }
    return nullptr;
}

} // namespace pam_oauth2
