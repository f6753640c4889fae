#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <variant>

namespace pam_oauth2 {

// The one home for when a token may be used (RFC 7519 exp, nbf, iat as seconds since the epoch).
// The claim rules, the verdict cache and the account stage all ask here, so they cannot disagree.

// The time claims of a token, each when present.
struct TokenTimes {
    std::optional<long long> expires_at; // exp
    std::optional<long long> not_before; // nbf
    std::optional<long long> issued_at;  // iat
};

/// Reads exp, nbf and iat; the reason when one is present but not a whole number of seconds.
std::variant<TokenTimes, std::string> read_token_times(const nlohmann::json& claims);

/// Why the token cannot be used at `now` (expired, not yet valid, issued in the future), with
/// `leeway_seconds` of clock skew forgiven each way; nullopt when it can.
std::optional<std::string> check_token_times(const TokenTimes& times, long long now, long leeway_seconds);

/// The last second at which a token expiring at `expires_at` is accepted: exp plus the leeway,
/// without overflow for any exp a token may carry.
long long accepted_until(long long expires_at, long leeway_seconds) noexcept;

/// Whether `now` lies after the last accepted second `until`.
constexpr bool is_past(long long until, long long now) noexcept
{
    return now > until;
}

/// Whether a verdict cached for a token that expires at `expires_at` may still be reused at `now`.
/// No leeway: it forgives clock skew between us and the issuer, it does not extend a cache.
constexpr bool cached_verdict_usable(long long expires_at, long long now) noexcept
{
    return now < expires_at;
}

} // namespace pam_oauth2
