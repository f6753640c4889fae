#include "key_source.hpp"

#include "json.hpp"
#include "provider_json.hpp"
#include "url_policy.hpp"

namespace pam_oauth2 {

RemoteKeySource::Document RemoteKeySource::fetch(const std::string& url, const std::string& what, long long max_age,
                                                 bool refresh)
{
    const std::string cache_key = what + " " + url;
    std::optional<CacheEntry> cached;
    if (cache_ != nullptr) {
        cached = cache_->read(cache_key, max_response_bytes);
    }
    if (cached) {
        const long long age = now_() - cached->stored_at;
        const long long limit = refresh ? jwks_refresh_interval_seconds : max_age;
        if (age >= 0 && age < limit) {
            logger_.debug(what + " from cache (" + std::to_string(age) + " s old)");
            return {std::move(cached->text), ""};
        }
    }
    HttpRequest request;
    request.url = url;
    const HttpResult answer = http_.send(request);
    auto read = read_provider_json(answer, what + " " + url);
    if (auto* problem = std::get_if<std::string>(&read)) {
        return {"", std::move(*problem)};
    }
    std::string text(answer.body.view());
    if (cache_ != nullptr && !cache_->write(cache_key, text, now_())) {
        logger_.debug("cannot write " + what + " to the cache in " + cache_->directory());
    }
    return {std::move(text), ""};
}

std::string RemoteKeySource::jwks_url(std::string& error)
{
    if (!settings_.jwks_url.empty()) {
        return settings_.jwks_url;
    }
    std::string base = issuer_;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    const auto discovery =
        fetch(base + "/.well-known/openid-configuration", "discovery document", jwks_cache_seconds, false);
    if (!discovery.error.empty()) {
        error = discovery.error;
        return {};
    }
    const auto document = parse_json_object(discovery.text);
    // OpenID Connect Discovery 1.0 section 4.3: the document must name the issuer we asked about.
    if (!document || string_member(*document, "issuer") != issuer_) {
        error = "discovery document does not name issuer " + issuer_;
        return {};
    }
    const auto url = string_member(*document, "jwks_uri");
    if (!url) {
        error = "discovery document has no jwks_uri";
        return {};
    }
    if (auto problem = check_endpoint_url(*url, allow_http_)) {
        error = "discovery document's jwks_uri " + *problem;
        return {};
    }
    return *url;
}

KeySet RemoteKeySource::keys(bool refresh)
{
    KeySet set;
    const std::string url = jwks_url(set.error);
    if (url.empty()) {
        return set;
    }
    const auto document = fetch(url, "JWKS", jwks_cache_seconds, refresh);
    if (!document.error.empty()) {
        set.error = document.error;
        return set;
    }
    auto parsed = parse_jwks(document.text);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
        set.error = "JWKS " + url + ": " + *problem;
        return set;
    }
    set.keys = std::move(std::get<std::vector<Jwk>>(parsed));
    return set;
}

} // namespace pam_oauth2
