#include "jwt_verifier.hpp"
#include "settings.hpp"

#include "json.hpp"
#include "jws.hpp"
#include "logger.hpp"
#include "text.hpp"

#include <algorithm>

namespace pam_oauth2 {
namespace {

VerifyResult invalid(std::string detail)
{
    return verify_result(VerifyStatus::Invalid, std::move(detail));
}

std::optional<std::string> check_header(const nlohmann::json& header, const JwtSettings& settings, std::string& alg)
{
    const auto named = string_member(header, "alg");
    if (!named) {
        return std::string("JWT header has no alg");
    }
    alg = *named;
    // Fail closed on the classic JOSE attacks: unsigned tokens and HMAC keyed with a public key.
    if (alg == "none") {
        return std::string("JWT alg none is never accepted");
    }
    if (alg.rfind("HS", 0) == 0) {
        return "JWT alg " + log_safe(alg) + " (HMAC) is never accepted";
    }
    if (std::find(settings.algorithms.begin(), settings.algorithms.end(), alg) == settings.algorithms.end()) {
        return "JWT alg " + log_safe(alg) + " is not in algorithms=";
    }
    if (!is_supported_algorithm(alg)) {
        return "JWT alg " + log_safe(alg) + " is not supported";
    }
    if (header.contains("nonce")) {
        // Microsoft Graph access tokens carry a nonce in the header and are signed so that only Graph
        // can verify them: say what the token is rather than "signature does not verify".
        return std::string("token is a Microsoft Graph token (its header has a nonce); it is for Graph, not this "
                           "service: request a token for your own API (scope api://<app>/.default)");
    }
    if (header.contains("crit")) {
        // RFC 7515 4.1.11: extensions we do not understand must make the token invalid; we know none.
        return std::string("JWT header has crit extensions this module does not implement");
    }
    return std::nullopt;
}

} // namespace

VerifyResult JwtVerifier::verify(const PresentedToken& token)
{
    const CompactJws* parsed = token.jws();
    if (parsed == nullptr) {
        return invalid("malformed JWT: " + token.jws_problem());
    }
    const CompactJws& jws = *parsed;
    std::string alg;
    if (auto problem = check_header(jws.header, settings_, alg)) {
        return invalid(*problem);
    }
    const auto kid = string_member(jws.header, "kid");
    if (jws.header.contains("kid") && !kid) {
        return invalid("JWT kid is not a string");
    }

    KeySet set = keys_.keys(false);
    if (set.error.empty() && kid && signing_candidates(set.keys, kid, alg).empty()) {
        // Keys rotate: a kid we have not seen may be new. One (rate-limited) refresh, then a verdict.
        set = keys_.keys(true);
    }
    if (!set.error.empty()) {
        VerifyResult unavailable;
        unavailable.detail = "cannot get the issuer's signing keys: " + set.error;
        return unavailable;
    }
    const auto usable = signing_candidates(set.keys, kid, alg);
    if (usable.empty()) {
        return invalid(kid ? "no key with kid " + log_safe(*kid) + " in the issuer's JWKS"
                           : "no key in the issuer's JWKS fits alg " + log_safe(alg));
    }
    const SignatureCheck signature = verify_with_any(jws, usable, alg);
    if (signature.key == nullptr) {
        return invalid("JWT " + signature.problem);
    }
    const Jwk* verified = signature.key;

    const auto exp = integer_member(jws.payload, "exp");
    if (!exp) {
        return invalid("JWT has no numeric exp; tokens without expiry are refused");
    }
    VerifyResult result = verify_result(VerifyStatus::Valid, "");
    result.expires_at = exp;
    result.header_typ = string_member(jws.header, "typ");
    result.claims = jws.payload;
    result.signing_key = "kid=" + log_value(verified->kid) + " kty=" + verified->kty;
    if (!verified->crv.empty()) {
        result.signing_key += " crv=" + verified->crv;
    }
    result.signing_key += " alg=" + alg;
    return result;
}

} // namespace pam_oauth2
