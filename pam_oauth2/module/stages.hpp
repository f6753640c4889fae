#pragma once

#include <security/pam_appl.h>

namespace pam_oauth2 {

/// pam_sm_authenticate's work: configuration, user, token, decision, one log line, verdict stored.
int authentication_stage(pam_handle_t* pamh, int flags, int argc, const char** argv);

/// pam_sm_acct_mgmt's work: reuse the verdict of this handle's authentication.
int account_stage(pam_handle_t* pamh, int flags, int argc, const char** argv);

} // namespace pam_oauth2
