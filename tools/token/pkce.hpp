#pragma once

#include "secure_string.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2::token {

// Proof Key for Code Exchange (RFC 7636) with the S256 method: the verifier stays here and goes only
// to the token endpoint; the challenge goes into the authorization URL.
struct Pkce {
    SecureString verifier; // 43 characters of base64url over 32 random bytes (section 4.1)
    std::string challenge; // BASE64URL(SHA256(verifier)) (section 4.2)
};

/// base64url without padding (RFC 4648 section 5), as PKCE and JWS use it.
std::string base64url_encode(std::string_view bytes);

/// `bytes` random bytes from OpenSSL's CSPRNG as base64url; nullopt when it cannot give them.
std::optional<std::string> random_base64url(std::size_t bytes);

/// The S256 challenge of `verifier`.
std::string s256_challenge(std::string_view verifier);

/// A fresh verifier and its challenge; nullopt when the random generator fails (fail closed).
std::optional<Pkce> make_pkce();

} // namespace pam_oauth2::token
