#pragma once

#include "presented_token.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace pam_oauth2 {

enum class VerifyStatus {
    Valid,       // the identity provider (or the signature) vouches for the token; claims are filled
    Invalid,     // the token is refused: expired, revoked, forged, inactive
    Unavailable, // no trustworthy answer could be had: network, timeout, 5xx, unusable body
};

// What a verifier learned about a token. `detail` explains Invalid/Unavailable for the log and never
// contains the token or a raw response body.
// NOLINTNEXTLINE(bugprone-exception-escape): json's special members do not throw; the check cannot see it.
struct VerifyResult {
    VerifyStatus status = VerifyStatus::Unavailable;
    nlohmann::json claims;
    std::optional<long long> expires_at;   // the token's exp, when the method learned it
    std::optional<std::string> header_typ; // the JOSE header's typ, for the jwt method
    std::string signing_key;               // jwt: the JWKS key that verified it ("kid=... kty=RSA")
    std::string detail;
};

/// A result of `status` explained by `detail`.
VerifyResult verify_result(VerifyStatus status, std::string detail);

// One way of checking a token (userinfo, introspect, jwt).
class TokenVerifier {
public:
    virtual ~TokenVerifier() = default;
    /// The name used in `verify=` and in `method=` of log lines.
    [[nodiscard]] virtual const char* name() const = 0;
    /// Whether this method judges this token at all (jwt judges whatever looks like a JWS).
    [[nodiscard]] virtual bool applies_to(const PresentedToken& token) const = 0;
    /// Checks the token; never throws for bad input or network trouble.
    virtual VerifyResult verify(const PresentedToken& token) = 0;
};

} // namespace pam_oauth2
