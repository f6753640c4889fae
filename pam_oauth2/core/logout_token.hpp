#pragma once

#include "key_source.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

// What an OpenID Connect back-channel logout token (Back-Channel Logout 1.0, section 2.4) must
// satisfy here: whose it may be and how recent.
struct LogoutTokenPolicy {
    struct Issuer {
        std::string issuer;    // iss, compared as a string
        std::string client_id; // must be in aud
    };
    std::vector<Issuer> issuers;
    std::vector<std::string> algorithms{"RS256", "RS384", "RS512", "PS256", "PS384",
                                        "PS512", "ES256", "ES384", "ES512", "EdDSA"};
    long long max_age_seconds = 300; // iat at most this old (and at most leeway in the future)
    long long leeway_seconds = 60;
};

// The claims of a logout token that verified.
struct LogoutClaims {
    std::string issuer;
    std::string subject;    // empty when the token has no sub
    std::string session_id; // empty when the token has no sid
    std::string jti;
    long long issued_at = 0;
};

// Why a logout token was refused: `reason` is a short fixed word (a metric label), `detail` the
// sentence for the log (never quoting the token).
struct LogoutRefusal {
    std::string reason;
    std::string detail;
    bool unavailable = false; // the issuer's keys could not be had: not the sender's fault
};

/// The signing keys of `issuer` (already one of the policy's); `refresh` as KeySource::keys.
using LogoutKeys = std::function<KeySet(const std::string& issuer, bool refresh)>;

/// Verifies `token` (section 2.6): a compact JWS, signed with an allowed asymmetric algorithm by a
/// key of the issuer's JWKS (never alg none, never HMAC), typ logout+jwt when typ is present, iss
/// among the policy's issuers, aud naming that issuer's client id, iat within the window, exp (when
/// present) not passed, an events claim with the back-channel logout event as a JSON object, sub or
/// sid, no nonce, a jti.
std::variant<LogoutClaims, LogoutRefusal> verify_logout_token(std::string_view token, const LogoutTokenPolicy& policy,
                                                              const LogoutKeys& keys, long long now);

/// The event a logout token names in its events claim.
inline constexpr const char* backchannel_logout_event = "http://schemas.openid.net/event/backchannel-logout";

} // namespace pam_oauth2
