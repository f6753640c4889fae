#include "verdict_cache.hpp"

#include "digest.hpp"
#include "http_client.hpp"
#include "json.hpp"

namespace pam_oauth2 {

bool VerdictCache::enabled(VerifyMethod method) const
{
    return cache_ != nullptr && options_.cache_ttl_seconds > 0 && method != VerifyMethod::Jwt;
}

std::string VerdictCache::key(VerifyMethod method, const SecureString& token) const
{
    // Bound to the endpoint (and client): a verdict of one provider is never reused for another.
    const std::string& endpoint = method == VerifyMethod::Userinfo
                                      ? options_.userinfo_url
                                      : options_.introspection_url + " " + options_.client_id;
    return std::string("verdict ") + method_name(method) + " " + endpoint + " " + sha256_hex(token.view());
}

std::optional<VerifyResult> VerdictCache::find(VerifyMethod method, const SecureString& token) const
{
    if (!enabled(method)) {
        return std::nullopt;
    }
    const auto entry = cache_->read(key(method, token), max_response_bytes);
    if (!entry) {
        return std::nullopt;
    }
    const long long now = now_();
    const long long age = now - entry->stored_at;
    if (age < 0 || age >= options_.cache_ttl_seconds) {
        return std::nullopt;
    }
    auto document = parse_json_object(entry->text);
    if (!document || !document->contains("claims") || !(*document)["claims"].is_object()) {
        return std::nullopt;
    }
    VerifyResult result;
    result.expires_at = integer_member(*document, "exp");
    if (result.expires_at && now >= *result.expires_at) {
        return std::nullopt;
    }
    result.status = VerifyStatus::Valid;
    result.claims = std::move((*document)["claims"]);
    result.detail = "verdict from cache (" + std::to_string(age) + " s old)";
    return result;
}

bool VerdictCache::store(VerifyMethod method, const SecureString& token, const VerifyResult& result) const
{
    if (!enabled(method) || result.status != VerifyStatus::Valid) {
        return false;
    }
    nlohmann::json document{{"claims", result.claims}};
    if (result.expires_at) {
        document["exp"] = *result.expires_at;
    }
    // dump() with replacement: claims may hold invalid UTF-8, which must not throw here.
    return cache_->write(key(method, token), document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                         now_());
}

} // namespace pam_oauth2
