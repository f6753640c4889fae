#pragma once

#include "jws.hpp"
#include "secure_string.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

// The token of one login, inspected once: its bytes and, when it parses strictly as a compact JWS,
// the decoded header and payload. Every verifier and the log hints read this instead of parsing again.
// Holds a reference: the SecureString must outlive it.
class PresentedToken {
public:
    explicit PresentedToken(const SecureString& token);

    [[nodiscard]] const SecureString& secret() const noexcept { return token_; }
    [[nodiscard]] std::string_view view() const noexcept { return token_.view(); }

    /// The strictly parsed compact JWS, or nullptr when the token is not one.
    [[nodiscard]] const CompactJws* jws() const noexcept { return jws_ ? &*jws_ : nullptr; }
    /// Why the token is not a compact JWS (empty when it is).
    [[nodiscard]] const std::string& jws_problem() const noexcept { return jws_problem_; }
    /// True when the token begins like a JOSE header ("eyJ" is base64url for '{"').
    [[nodiscard]] bool starts_like_jws() const noexcept { return view().substr(0, 3) == "eyJ"; }
    /// True for anything a provider might take for a JWT: it starts like a JOSE header or has three
    /// dot-separated parts. Such a token is judged by jwt (and refused there unless it parses
    /// strictly), never routed to another method that would skip the audience rule.
    [[nodiscard]] bool looks_like_jws() const noexcept;
    /// The exp of a JWT-shaped token, read without verifying anything. Only ever used to bound how
    /// long a verdict about the token may be reused, never to accept it.
    [[nodiscard]] std::optional<long long> unverified_expiry() const;

private:
    const SecureString& token_;
    std::optional<CompactJws> jws_;
    std::string jws_problem_;
};

} // namespace pam_oauth2
