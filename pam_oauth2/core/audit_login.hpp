#pragma once

#include "audit.hpp"
#include "logger.hpp"
#include "login.hpp"
#include "settings.hpp"

#include <memory>
#include <string>

namespace pam_oauth2 {

/// The "login" event of what login() came to: result, reason, user (when loggable), method, token
/// fingerprint, rhost and the token's identity, stamped `now` (seconds since the epoch).
AuditEvent login_audit_event(const LoginResult& result, std::string service, std::string host, long long now);

/// This machine's host name, empty when gethostname fails.
std::string audit_host_name();

/// The sink `settings` ask for: syslog, the file (failures reported through `logger`), or null for off.
std::unique_ptr<AuditSink> make_audit_sink(const AuditSettings& settings, const Logger& logger);

} // namespace pam_oauth2
