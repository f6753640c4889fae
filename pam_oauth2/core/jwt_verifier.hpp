#pragma once

#include "clock.hpp"
#include "key_source.hpp"
#include "settings_fwd.hpp"
#include "verifier.hpp"

namespace pam_oauth2 {

// Local verification of JWT access tokens (RFC 9068 and plain JWTs) against the issuer's JWKS:
// the signature with an allowed asymmetric algorithm, and an exp. The claim rules (iss, aud, lifetime,
// user, scope, groups) run afterwards on the payload, as for every method.
class JwtVerifier final : public TokenVerifier {
public:
    JwtVerifier(const JwtSettings& settings, KeySource& keys) : settings_(settings), keys_(keys) {}
    [[nodiscard]] const char* name() const override { return "jwt"; }
    /// Whatever looks like a JWS: a token that does not parse strictly is refused here, never passed on.
    [[nodiscard]] bool applies_to(const PresentedToken& token) const override { return token.looks_like_jws(); }
    VerifyResult verify(const PresentedToken& token) override;

private:
    const JwtSettings& settings_;
    KeySource& keys_;
};

} // namespace pam_oauth2
