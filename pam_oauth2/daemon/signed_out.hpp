#pragma once

#include <string>

namespace pam_oauth2 {

// A sign-in the identity provider says is over (an OpenID Connect back-channel logout token): the
// issuer, and its sub, its sid, or both. The logout endpoint produces it; session tracking ends the
// sessions it names and the verdict caches stop answering for it.
struct SignedOut {
    std::string issuer;
    std::string subject;    // empty when the logout token names only a sid
    std::string session_id; // empty when the logout token names only a sub
    long long at = 0;       // when the logout token was accepted, seconds since the epoch
};

} // namespace pam_oauth2
