#include "outcome.hpp"

// Only the return-code constants are used; the core never links libpam.
#include <security/_pam_types.h>

namespace pam_oauth2 {

int to_pam_code(Outcome outcome) noexcept
{
    switch (outcome) {
    case Outcome::Granted: return PAM_SUCCESS;
    case Outcome::Denied: return PAM_AUTH_ERR;
    case Outcome::Unavailable: return PAM_AUTHINFO_UNAVAIL;
    case Outcome::ConfigError: return PAM_SERVICE_ERR;
    case Outcome::OutOfMemory: return PAM_BUF_ERR;
    case Outcome::ConversationAgain: return PAM_INCOMPLETE;
    case Outcome::InternalError: return PAM_SYSTEM_ERR;
    }
    return PAM_SYSTEM_ERR;
}

const char* result_word(Outcome outcome) noexcept
{
    switch (outcome) {
    case Outcome::Granted: return "granted";
    case Outcome::Denied: return "denied";
    case Outcome::Unavailable: return "unavailable";
    case Outcome::ConfigError: return "config_error";
    case Outcome::OutOfMemory: return "out_of_memory";
    case Outcome::ConversationAgain: return "incomplete";
    case Outcome::InternalError: return "error";
    }
    return "error";
}

} // namespace pam_oauth2
