#pragma once

#include "clock.hpp"
#include "key_source.hpp"
#include "options.hpp"
#include "verifier.hpp"

namespace pam_oauth2 {

// Local verification of JWT access tokens (RFC 9068 and plain JWTs) against the issuer's JWKS:
// the signature with an allowed asymmetric algorithm, then iss and exp. The authorization rules
// (user, aud, scope, groups, nbf/iat) run afterwards on the payload, as for every method.
class JwtVerifier final : public TokenVerifier {
public:
    JwtVerifier(const Options& options, KeySource& keys) : options_(options), keys_(keys) {}
    [[nodiscard]] const char* name() const override { return "jwt"; }
    [[nodiscard]] bool applies_to(const SecureString& token) const override;
    VerifyResult verify(const SecureString& token) override;

private:
    const Options& options_;
    KeySource& keys_;
};

} // namespace pam_oauth2
