#include "verdict_cache.hpp"
#include "settings.hpp"

#include "digest.hpp"
#include "http_client.hpp"
#include "json.hpp"
#include "lifetime.hpp"

#include <algorithm>

namespace pam_oauth2 {

bool VerdictCache::enabled(VerifyMethod method) const
{
    return cache_ != nullptr && settings_.ttl_seconds > 0 && method != VerifyMethod::Jwt;
}

const std::string& VerdictCache::endpoint_url(VerifyMethod method) const
{
    return method == VerifyMethod::Userinfo ? endpoints_.userinfo_url : endpoints_.introspection_url;
}

std::string VerdictCache::key(VerifyMethod method, const PresentedToken& token) const
{
    const std::string endpoint = method == VerifyMethod::Userinfo
                                     ? endpoints_.userinfo_url
                                     : endpoints_.introspection_url + " " + endpoints_.client_id;
    return std::string("verdict ") + method_name(method) + " " + endpoint + " " + sha256_hex(token.view()) + trust_;
}

std::optional<VerifyResult> VerdictCache::find(VerifyMethod method, const PresentedToken& token) const
{
    // A verdict from a host the store's policy no longer admits (pam_oauth2d after allow_hosts
    // changed) is not used, as a fresh request would not be sent there.
    if (!enabled(method) || !cache_->admits(endpoint_url(method))) {
        return std::nullopt;
    }
    const auto entry = cache_->read(key(method, token), max_response_bytes);
    if (!entry) {
        return std::nullopt;
    }
    const long long now = now_();
    const long long age = now - entry->stored_at;
    if (age < 0 || age >= settings_.ttl_seconds) {
        return std::nullopt;
    }
    auto document = parse_json_object(entry->text);
    if (!document || !document->contains("claims") || !(*document)["claims"].is_object()) {
        return std::nullopt;
    }
    VerifyResult result;
    result.expires_at = integer_member(*document, "exp");
    if (result.expires_at && !cached_verdict_usable(*result.expires_at, now)) {
        return std::nullopt;
    }
    result.status = VerifyStatus::Valid;
    result.claims = std::move((*document)["claims"]);
    result.detail = "verdict from cache (" + std::to_string(age) + " s old)";
    return result;
}

bool VerdictCache::store(VerifyMethod method, const PresentedToken& token, const VerifyResult& result) const
{
    if (!enabled(method) || result.status != VerifyStatus::Valid) {
        return false;
    }
    // Never past the token's own exp: the provider's (introspection) and, for a JWT-shaped token, the
    // one it carries. A JWT-shaped token whose exp cannot be read is not cached at all.
    std::optional<long long> until = result.expires_at;
    if (token.looks_like_jws()) {
        const auto carried = token.unverified_expiry();
        if (!carried) {
            return false;
        }
        until = until ? std::min(*until, *carried) : *carried;
    }
    nlohmann::json document{{"claims", result.claims}};
    if (until) {
        document["exp"] = *until;
    }
    // dump() with replacement: claims may hold invalid UTF-8, which must not throw here.
    return cache_->write(key(method, token), document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                         now_());
}

} // namespace pam_oauth2
