#include "key_source.hpp"
#include "settings.hpp"

#include "json.hpp"
#include "login_observer.hpp"
#include "provider_json.hpp"
#include "url_policy.hpp"

#include <syslog.h>

namespace pam_oauth2 {

namespace {

// OpenID Connect Discovery 1.0 section 4.3: the document must name the issuer we asked about. The
// jwks_uri it names, or why it names none we may use.
Fallible<std::string> discovered_jwks_uri(std::string_view text, const std::string& issuer, bool allow_http)
{
    const auto document = parse_json_object(text);
    if (!document || string_member(*document, "issuer") != issuer) {
        return Failure{"discovery document does not name issuer " + issuer};
    }
    const auto url = string_member(*document, "jwks_uri");
    if (!url) {
        return Failure{"discovery document has no jwks_uri"};
    }
    if (auto problem = check_endpoint_url(*url, allow_http)) {
        return Failure{"discovery document's jwks_uri " + *problem};
    }
    return *url;
}

} // namespace

template <typename Parsed, typename Parse>
Fallible<Parsed> RemoteKeySource::fetch(const std::string& url, const std::string& what, bool refresh,
                                        const Parse& parse)
{
    const std::string cache_key = what + " " + url;
    std::optional<CacheEntry> cached;
    if (cache_ != nullptr) {
        cached = cache_->read(cache_key, max_response_bytes);
    }
    // What the cache holds: the provider's document and the life its Cache-Control gave it.
    const StoredDocument stored = cached ? read_stored_document(cached->text) : StoredDocument{};
    if (cached) {
        const long long age = now_() - cached->stored_at;
        const long long limit = refresh ? jwks_refresh_interval_seconds : stored.lifetime;
        if (age >= 0 && age < limit) {
            if (auto memo = cache_->memo(cache_key, cached->stored_at)) {
                logger_.debug(what + " from cache (" + std::to_string(age) + " s old, parsed)");
                trace_document(what, url, DocumentSource::Cache, age, stored.lifetime);
                return *std::static_pointer_cast<const Parsed>(memo);
            }
            auto parsed = parse(stored.body);
            if (parsed.ok()) {
                logger_.debug(what + " from cache (" + std::to_string(age) + " s old)");
                trace_document(what, url, DocumentSource::Cache, age, stored.lifetime);
                cache_->remember(cache_key, cached->stored_at, std::make_shared<const Parsed>(parsed.value()));
                return parsed;
            }
            // Only documents that parsed are written, so this copy was damaged: fetch again, but no
            // more often than an unknown kid may.
            if (age < jwks_refresh_interval_seconds) {
                return parsed;
            }
        }
    }
    HttpRequest request;
    request.url = url;
    const HttpResult answer = http_.send(request);
    auto read = read_provider_json(answer, what + " " + url);
    if (auto* problem = std::get_if<std::string>(&read)) {
        // The provider is down or answers badly: an older copy that parses carries logins through a
        // bounded outage. Not for an unknown kid: the old set cannot name the new key.
        if (cached && !refresh) {
            const long long age = now_() - cached->stored_at;
            if (age >= 0 && age < jwks_stale_if_error_seconds) {
                auto parsed = parse(stored.body);
                if (parsed.ok()) {
                    logger_.log(LOG_WARNING, "using a " + std::to_string(age) + " s old " + what +
                                                 " while the identity provider fails: " + *problem);
                    trace_document(what, url, DocumentSource::StaleCache, age, stored.lifetime);
                    return parsed;
                }
            }
        }
        return Failure{std::move(*problem)};
    }
    auto parsed = parse(answer.body.view());
    // A document that does not parse is never cached: one bad answer must not outlive its fix.
    if (parsed.ok() && cache_ != nullptr) {
        const long long stored_at = now_();
        const long long lifetime = document_lifetime(answer.cache_control);
        if (lifetime < jwks_cache_seconds) {
            logger_.debug(what + " kept " + std::to_string(lifetime) + " s, as its Cache-Control asks");
        }
        const bool written = cache_->write(cache_key, stored_document(lifetime, answer.body.view()), stored_at);
        if (written) {
            cache_->remember(cache_key, stored_at, std::make_shared<const Parsed>(parsed.value()));
        } else {
            logger_.debug("cannot write " + what + " to the cache in " + cache_->where());
        }
        trace_fetched(what, url, lifetime, written, std::nullopt);
    } else {
        trace_fetched(what, url, std::nullopt, false,
                      !parsed.ok() ? std::optional<std::string_view>(parsed.error()) : std::nullopt);
    }
    return parsed;
}

void RemoteKeySource::trace_document(const std::string& what, const std::string& url, DocumentSource from,
                                     long long age, long long lifetime) const
{
    if (auto* observer = logger_.observer()) {
        observer->document({what, url, from, age, lifetime, std::nullopt, std::nullopt, std::nullopt});
    }
}

void RemoteKeySource::trace_fetched(const std::string& what, const std::string& url, std::optional<long long> kept,
                                    bool written, std::optional<std::string_view> problem) const
{
    if (auto* observer = logger_.observer()) {
        const std::string store = kept ? cache_->where() : std::string();
        observer->document({what, url, DocumentSource::IdentityProvider, std::nullopt, kept, written,
                            kept ? std::optional<std::string_view>(store) : std::nullopt, problem});
    }
}

Fallible<std::string> RemoteKeySource::jwks_url()
{
    if (!settings_.jwks_url.empty()) {
        return settings_.jwks_url;
    }
    std::string location = settings_.discovery_url;
    if (location.empty()) {
        location = issuer_;
        while (!location.empty() && location.back() == '/') {
            location.pop_back();
        }
        location += "/.well-known/openid-configuration";
    }
    return fetch<std::string>(location, "discovery document", false, [this](std::string_view text) {
        return discovered_jwks_uri(text, issuer_, allow_http_);
    });
}

KeySet RemoteKeySource::keys(bool refresh)
{
    KeySet set;
    const auto url = jwks_url();
    if (!url.ok()) {
        set.error = url.error();
        return set;
    }
    const std::string& location = url.value();
    auto parsed =
        fetch<std::vector<Jwk>>(location, "JWKS", refresh, [&](std::string_view text) -> Fallible<std::vector<Jwk>> {
            auto keys = parse_jwks(text);
            if (auto* problem = std::get_if<std::string>(&keys)) {
                return Failure{"JWKS " + location + ": " + *problem};
            }
            return std::move(std::get<std::vector<Jwk>>(keys));
        });
    if (!parsed.ok()) {
        set.error = parsed.error();
        return set;
    }
    set.keys = std::move(parsed).value();
    return set;
}

} // namespace pam_oauth2
