#pragma once

#include "handle_io.h"

#include <security/pam_appl.h>

namespace pam_oauth2 {

/// pam_sm_authenticate's work in this process: configuration, user, token (or `token` when the
/// front already collected it), decision, one log line; `verdict` says what the front keeps for the
/// account stage.
int authentication_stage(pam_handle_t* pamh, int argc, const char** argv, const char* token, handle_verdict& verdict);

} // namespace pam_oauth2
