#pragma once

namespace pam_oauth2 {

// What a login came to. Every decision the module makes is one of these; outcome.cpp holds the one
// table that turns it into a PAM code (DESIGN.md section 2).
enum class Outcome {
    Granted,           // token verified, user matches, every check holds
    Denied,            // token refused, malformed, or a check failed
    Unavailable,       // identity provider unreachable, slow, 5xx or unusable answer
    ConfigError,       // module arguments or conf= file wrong
    OutOfMemory,       // allocation failed
    ConversationAgain, // the application's conversation asked to be called again
    InternalError,     // anything that should not happen
};

/// The PAM return code for an outcome of pam_sm_authenticate.
int to_pam_code(Outcome outcome) noexcept;

/// The word used for `result=` in decision log lines.
const char* result_word(Outcome outcome) noexcept;

} // namespace pam_oauth2
