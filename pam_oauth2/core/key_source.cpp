#include "key_source.hpp"
#include "settings.hpp"

#include "digest.hpp"
#include "json.hpp"
#include "login_observer.hpp"
#include "provider_json.hpp"
#include "url_policy.hpp"

#include <sys/stat.h>
#include <syslog.h>

namespace pam_oauth2 {

namespace {

// What a discovery document says, before any reader's policy is applied: what a memo keeps.
struct Discovered {
    std::string issuer;
    std::optional<std::string> jwks_uri;
};

Fallible<Discovered> parse_discovery(std::string_view text, const std::string& issuer)
{
    const auto document = parse_json_object(text);
    const auto named = document ? string_member(*document, "issuer") : std::nullopt;
    if (!named) {
        return Failure{"discovery document does not name issuer " + issuer};
    }
    return Discovered{*named, string_member(*document, "jwks_uri")};
}

// OpenID Connect Discovery 1.0 section 4.3: the document must name the issuer we asked about, and a
// jwks_uri we may use. Run on every use: a document cached for another configuration proves nothing.
std::optional<std::string> check_discovery(const Discovered& document, const std::string& issuer, bool allow_http)
{
    if (document.issuer != issuer) {
        return "discovery document does not name issuer " + issuer;
    }
    if (!document.jwks_uri) {
        return "discovery document has no jwks_uri";
    }
    if (auto problem = check_endpoint_url(*document.jwks_uri, allow_http)) {
        return "discovery document's jwks_uri " + *problem;
    }
    return std::nullopt;
}

// The identity of the file or directory at `path` now, or why there is none.
std::string identity_of(const std::string& path)
{
    struct stat about {};
    if (path.empty()) {
        return "-";
    }
    if (::stat(path.c_str(), &about) != 0) {
        return "unreadable";
    }
    return std::to_string(about.st_dev) + ":" + std::to_string(about.st_ino) + ":" + std::to_string(about.st_size) +
           ":" + std::to_string(about.st_mtim.tv_sec) + "." + std::to_string(about.st_mtim.tv_nsec) + ":" +
           std::to_string(about.st_ctim.tv_sec) + "." + std::to_string(about.st_ctim.tv_nsec);
}

} // namespace

std::string trust_tag(const HttpSettings& transport)
{
    if (transport.ca_file.empty() && transport.ca_path.empty()) {
        return {};
    }
    std::string material = "ca_file=" + transport.ca_file + '\n' + identity_of(transport.ca_file) + '\n';
    material += "ca_path=" + transport.ca_path + '\n' + identity_of(transport.ca_path) + '\n';
    return " trust=" + sha256_hex(material).substr(0, 32);
}

RemoteKeySource::RemoteKeySource(std::string issuer, const JwtSettings& settings, const HttpSettings& transport,
                                 HttpClient& http, const DocumentStore* cache, Clock now, const Logger& logger)
    : issuer_(std::move(issuer)), settings_(settings), allow_http_(transport.allow_http),
      trust_(cache != nullptr ? trust_tag(transport) : std::string()), http_(http), cache_(cache), now_(std::move(now)),
      logger_(logger)
{
}

// One document being read: where from, under which key, and the copy the cache holds, if any.
struct RemoteKeySource::Reading {
    const std::string& url;
    const std::string& what;
    std::string key;
    bool refresh;
    std::optional<CacheEntry> cached;
    StoredDocument stored; // views cached->text
};

template <typename Parsed, typename Parse, typename Check>
Fallible<Parsed> RemoteKeySource::fetch(const std::string& url, const std::string& what, bool refresh,
                                        const Parse& parse, const Check& check)
{
    Reading reading{url, what, what + " " + url + trust_, refresh, std::nullopt, {}};
    // A copy from a host the policy no longer admits is not used, not even while the provider fails.
    if (cache_ != nullptr && cache_->admits(url)) {
        reading.cached = cache_->read(reading.key, max_response_bytes);
    }
    if (reading.cached) {
        // What the cache holds: the provider's document and the life its Cache-Control gave it.
        reading.stored = read_stored_document(reading.cached->text);
        const long long age = now_() - reading.cached->stored_at;
        const long long limit = refresh ? jwks_refresh_interval_seconds : reading.stored.lifetime;
        if (age >= 0 && age < limit) {
            if (auto served = from_cache<Parsed>(reading, age, parse, check)) {
                return std::move(*served);
            }
        }
    }
    return from_provider<Parsed>(reading, parse, check);
}

template <typename Parsed, typename Parse, typename Check>
std::optional<Fallible<Parsed>> RemoteKeySource::from_cache(const Reading& reading, long long age, const Parse& parse,
                                                            const Check& check)
{
    const std::string& what = reading.what;
    const long long stored_at = reading.cached->stored_at;
    std::shared_ptr<const Parsed> parsed = std::static_pointer_cast<const Parsed>(cache_->memo(reading.key, stored_at));
    const bool memo = parsed != nullptr;
    if (!memo) {
        auto fresh = parse(reading.stored.body);
        if (!fresh.ok()) {
            // Only documents that parsed are written, so this copy was damaged: fetch again, but no
            // more often than an unknown kid may.
            return age < jwks_refresh_interval_seconds ? std::optional<Fallible<Parsed>>(std::move(fresh))
                                                       : std::nullopt;
        }
        parsed = std::make_shared<const Parsed>(std::move(fresh).value());
        cache_->remember(reading.key, stored_at, parsed);
    }
    if (check(*parsed)) {
        return std::nullopt; // another reader's copy that this one's policy refuses: ask the provider
    }
    logger_.debug(what + " from cache (" + std::to_string(age) + " s old" + (memo ? ", parsed)" : ")"));
    trace_document(what, reading.url, DocumentSource::Cache, age, reading.stored.lifetime);
    return Fallible<Parsed>(*parsed);
}

template <typename Parsed, typename Parse, typename Check>
Fallible<Parsed> RemoteKeySource::from_provider(const Reading& reading, const Parse& parse, const Check& check)
{
    const std::string& what = reading.what;
    HttpRequest request;
    request.url = reading.url;
    const HttpResult answer = http_.send(request);
    auto read = read_provider_json(answer, what + " " + reading.url);
    if (auto* problem = std::get_if<std::string>(&read)) {
        // The provider is down or answers badly: an older copy that parses carries logins through a
        // bounded outage. Not for an unknown kid (the old set cannot name the new key), and not when
        // policy refused the request: a de-listed host is not an outage.
        const long long age = reading.cached ? now_() - reading.cached->stored_at : -1;
        if (reading.cached && !reading.refresh && !answer.refused_by_policy && age >= 0 &&
            age < jwks_stale_if_error_seconds) {
            auto parsed = parse(reading.stored.body);
            if (parsed.ok() && !check(parsed.value())) {
                logger_.log(LOG_WARNING, "using a " + std::to_string(age) + " s old " + what +
                                             " while the identity provider fails: " + *problem);
                trace_document(what, reading.url, DocumentSource::StaleCache, age, reading.stored.lifetime);
                return parsed;
            }
        }
        return Failure{std::move(*problem)};
    }
    auto parsed = parse(answer.body.view());
    std::optional<std::string> refused = parsed.ok() ? check(parsed.value()) : std::nullopt;
    if (refused) {
        parsed = Failure{std::move(*refused)};
    }
    // A document that does not parse, or that this reader refuses, is never cached: one bad answer
    // must not outlive its fix.
    if (parsed.ok() && cache_ != nullptr) {
        const long long stored_at = now_();
        const long long lifetime = document_lifetime(answer.cache_control);
        if (lifetime < jwks_cache_seconds) {
            logger_.debug(what + " kept " + std::to_string(lifetime) + " s, as its Cache-Control asks");
        }
        const bool written = cache_->write(reading.key, stored_document(lifetime, answer.body.view()), stored_at);
        if (written) {
            cache_->remember(reading.key, stored_at, std::make_shared<const Parsed>(parsed.value()));
        } else {
            logger_.debug("cannot write " + what + " to the cache in " + cache_->where());
        }
        trace_fetched(what, reading.url, lifetime, written, std::nullopt);
    } else {
        trace_fetched(what, reading.url, std::nullopt, false,
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
    auto discovered = fetch<Discovered>(
        location, "discovery document", false, [this](std::string_view text) { return parse_discovery(text, issuer_); },
        [this](const Discovered& document) { return check_discovery(document, issuer_, allow_http_); });
    if (!discovered.ok()) {
        return Failure{discovered.error()};
    }
    return *discovered.value().jwks_uri;
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
    auto parsed = fetch<std::vector<Jwk>>(
        location, "JWKS", refresh,
        [&](std::string_view text) -> Fallible<std::vector<Jwk>> {
            auto keys = parse_jwks(text);
            if (auto* problem = std::get_if<std::string>(&keys)) {
                return Failure{"JWKS " + location + ": " + *problem};
            }
            return std::move(std::get<std::vector<Jwk>>(keys));
        },
        [](const std::vector<Jwk>&) { return std::optional<std::string>(); });
    if (!parsed.ok()) {
        set.error = parsed.error();
        return set;
    }
    set.keys = std::move(parsed).value();
    return set;
}

} // namespace pam_oauth2
