#pragma once

#include "login.hpp"
#include "settings.hpp"

#include <security/pam_appl.h>

namespace pam_oauth2 {

/// Writes the audit event of a login verified in this process, when its configuration asks for one
/// (audit=syslog or audit=file): service from PAM_SERVICE, host from gethostname, the rest from the
/// login's result. The host process opens the file. Never throws; a failure never changes the login.
void audit_inprocess_login(pam_handle_t* pamh, const Settings& settings, const LoginResult& result,
                           const Logger& logger) noexcept;

} // namespace pam_oauth2
