#include "logout_token.hpp"

#include "json.hpp"
#include "jws.hpp"
#include "logger.hpp"
#include "text.hpp"

#include <algorithm>
#include <optional>

namespace pam_oauth2 {
namespace {

using Refused = std::optional<LogoutRefusal>;

LogoutRefusal refusal(std::string reason, std::string detail)
{
    return LogoutRefusal{std::move(reason), std::move(detail), false};
}

// The JOSE header: an asymmetric algorithm the policy allows (alg none and HMAC never), no crit,
// and typ logout+jwt when present (section 2.4 recommends it; it keeps an ID token from passing).
Refused check_header(const nlohmann::json& header, const LogoutTokenPolicy& policy, std::string& alg)
{
    const auto named = string_member(header, "alg");
    if (!named) {
        return refusal("header", "no alg in the header");
    }
    alg = *named;
    if (alg == "none" || alg.rfind("HS", 0) == 0) {
        return refusal("alg", "alg " + log_safe(alg) + " is never accepted");
    }
    if (std::find(policy.algorithms.begin(), policy.algorithms.end(), alg) == policy.algorithms.end() ||
        !is_supported_algorithm(alg)) {
        return refusal("alg", "alg " + log_safe(alg) + " is not allowed");
    }
    if (header.contains("crit")) {
        return refusal("header", "the header has crit extensions");
    }
    if (header.contains("typ")) {
        const auto typ = string_member(header, "typ");
        if (!typ || (*typ != "logout+jwt" && *typ != "application/logout+jwt")) {
            return refusal("typ", "typ is not logout+jwt");
        }
    }
    if (header.contains("kid") && !string_member(header, "kid")) {
        return refusal("header", "kid is not a string");
    }
    return std::nullopt;
}

// The signature, by a key of the issuer's JWKS (one refresh when the kid is unknown: keys rotate).
Refused check_signature(const CompactJws& jws, const std::string& issuer, const std::string& alg,
                        const LogoutKeys& keys)
{
    const auto kid = string_member(jws.header, "kid");
    KeySet set = keys(issuer, false);
    if (set.error.empty() && kid && signing_candidates(set.keys, kid, alg).empty()) {
        set = keys(issuer, true);
    }
    if (!set.error.empty()) {
        return LogoutRefusal{"keys", "cannot get the issuer's signing keys: " + set.error, true};
    }
    const SignatureCheck signature = verify_with_any(jws, signing_candidates(set.keys, kid, alg), alg);
    if (signature.key == nullptr) {
        return refusal("signature", "signature: " + signature.problem);
    }
    return std::nullopt;
}

// iss among the configured issuers; its client id in aud (a string or an array of strings).
Refused check_audience(const nlohmann::json& claims, const LogoutTokenPolicy::Issuer& issuer)
{
    const auto aud = claims.find("aud");
    bool named = false;
    if (aud != claims.end() && aud->is_string()) {
        named = aud->get<std::string>() == issuer.client_id;
    } else if (aud != claims.end() && aud->is_array()) {
        named = std::any_of(aud->begin(), aud->end(), [&](const nlohmann::json& item) {
            return item.is_string() && item.get<std::string>() == issuer.client_id;
        });
    }
    if (!named) {
        return refusal("aud", "aud does not name client " + log_value(issuer.client_id));
    }
    return std::nullopt;
}

Refused check_times(const nlohmann::json& claims, const LogoutTokenPolicy& policy, long long now, LogoutClaims& out)
{
    const auto iat = integer_member(claims, "iat");
    if (!iat) {
        return refusal("iat", "no numeric iat");
    }
    if (*iat > now + policy.leeway_seconds || *iat < now - policy.max_age_seconds - policy.leeway_seconds) {
        return refusal("iat", "iat " + std::to_string(*iat) + " is outside the accepted window (now " +
                                  std::to_string(now) + ")");
    }
    out.issued_at = *iat;
    if (claims.contains("exp")) {
        const auto exp = integer_member(claims, "exp");
        if (!exp || *exp + policy.leeway_seconds <= now) {
            return refusal("exp", "the logout token has expired");
        }
    }
    return std::nullopt;
}

// events with the back-channel logout event as an object, sub or sid, a jti, and no nonce (which
// would make an ID token pass for a logout token).
Refused check_content(const nlohmann::json& claims, LogoutClaims& out)
{
    const auto events = claims.find("events");
    if (events == claims.end() || !events->is_object() || !events->contains(backchannel_logout_event) ||
        !(*events)[backchannel_logout_event].is_object()) {
        return refusal("events", "no back-channel logout event in events");
    }
    if (claims.contains("nonce")) {
        return refusal("nonce", "a logout token never carries a nonce");
    }
    if (claims.contains("sub") && !string_member(claims, "sub")) {
        return refusal("sub", "sub is not a string");
    }
    if (claims.contains("sid") && !string_member(claims, "sid")) {
        return refusal("sid", "sid is not a string");
    }
    out.subject = string_member(claims, "sub").value_or("");
    out.session_id = string_member(claims, "sid").value_or("");
    if (out.subject.empty() && out.session_id.empty()) {
        return refusal("sub", "neither sub nor sid");
    }
    const auto jti = string_member(claims, "jti");
    if (!jti || jti->empty()) {
        return refusal("jti", "no jti");
    }
    out.jti = *jti;
    return std::nullopt;
}

} // namespace

std::variant<LogoutClaims, LogoutRefusal> verify_logout_token(std::string_view token, const LogoutTokenPolicy& policy,
                                                              const LogoutKeys& keys, long long now)
{
    auto parsed = parse_compact_jws(token);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
        return refusal("malformed", "not a compact JWS: " + *problem);
    }
    const CompactJws& jws = std::get<CompactJws>(parsed);
    std::string alg;
    if (auto refused = check_header(jws.header, policy, alg)) {
        return *refused;
    }
    // The issuer is read before the signature only to choose whose keys check it.
    const auto iss = string_member(jws.payload, "iss");
    const auto issuer =
        std::find_if(policy.issuers.begin(), policy.issuers.end(),
                     [&](const LogoutTokenPolicy::Issuer& known) { return iss && known.issuer == *iss; });
    if (issuer == policy.issuers.end()) {
        return refusal("iss", iss ? "iss " + log_value(*iss) + " is not a configured issuer" : "no string iss");
    }
    if (auto refused = check_signature(jws, issuer->issuer, alg, keys)) {
        return *refused;
    }
    LogoutClaims claims;
    claims.issuer = issuer->issuer;
    for (const auto& check : {check_audience(jws.payload, *issuer), check_times(jws.payload, policy, now, claims),
                              check_content(jws.payload, claims)}) {
        if (check) {
            return *check;
        }
    }
    return claims;
}

} // namespace pam_oauth2
