#pragma once

#include <string>
#include <string_view>

namespace pam_oauth2::token {

// Who signed in, for --status: never a token, only two claims.
struct SignInIdentity {
    std::string subject;
    std::string username;
};

/// "sub" and the first of preferred_username, email and upn from the payload of a JWT (an id_token,
/// or an access token that is one). Not verified: the token came straight from the token endpoint
/// over TLS and these claims are only shown (escaped) to the person who signed in. Empty when `jwt` is not one.
SignInIdentity identity_of(std::string_view jwt);

} // namespace pam_oauth2::token
