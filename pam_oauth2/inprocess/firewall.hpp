#pragma once

#include <security/pam_appl.h>
#include <syslog.h>

#include <new>
#include <stdexcept>

namespace pam_oauth2 {

/// Logs a failure of the firewall itself (kept out of line so the template stays small).
void log_firewall(pam_handle_t* pamh, int priority, const char* what) noexcept;

/// The exception firewall around every entry point: no C++ exception reaches libpam. Out of memory
/// becomes PAM_BUF_ERR, anything else PAM_SYSTEM_ERR, each with one log line.
template <typename Work> int guarded(pam_handle_t* pamh, Work&& work) noexcept
{
    try {
        return work();
    } catch (const std::bad_alloc&) {
        log_firewall(pamh, LOG_CRIT, "result=out_of_memory reason=\"memory allocation failed\"");
        return PAM_BUF_ERR;
    } catch (const std::exception&) {
        // what() is not logged: a library's message may echo input, and input may be the token.
        log_firewall(pamh, LOG_ERR, "result=error reason=\"internal error (unexpected exception)\"");
        return PAM_SYSTEM_ERR;
    } catch (...) {
        log_firewall(pamh, LOG_ERR, "result=error reason=\"internal error (unknown exception)\"");
        return PAM_SYSTEM_ERR;
    }
}

} // namespace pam_oauth2
