#include "authenticator.hpp"

#include "cache.hpp"
#include "claims.hpp"
#include "config_file.hpp"
#include "endpoint_verifier.hpp"
#include "jwt_verifier.hpp"
#include "key_source.hpp"
#include "token_syntax.hpp"
#include "verdict_cache.hpp"

#include <algorithm>

namespace pam_oauth2 {
namespace {

Decision refuse(Outcome outcome, std::string reason, bool user_loggable)
{
    Decision decision;
    decision.outcome = outcome;
    decision.reason = std::move(reason);
    decision.user_loggable = user_loggable;
    return decision;
}

std::string with_truncation_hint(std::string reason, const SecureString& token)
{
    if (auto hint = truncation_hint(token.view())) {
        reason += "; " + *hint;
    }
    return reason;
}

// Creates the real transport on the first request only: a login answered from a cache (JWKS or
// verdict) never loads libcurl.
class LazyHttpClient final : public HttpClient {
public:
    LazyHttpClient(const HttpClientFactory& make, const Options& options) : make_(make)
    {
        settings_.ca_file = options.ca_file;
        settings_.ca_path = options.ca_path;
        settings_.timeout_ms = options.timeout_ms;
        settings_.connect_timeout_ms = options.connect_timeout_ms;
        settings_.allow_http = options.allow_http;
    }
    HttpResult send(const HttpRequest& request) override
    {
        if (!client_) {
            client_ = make_(settings_);
        }
        return client_->send(request);
    }

private:
    const HttpClientFactory& make_;
    HttpSettings settings_;
    std::unique_ptr<HttpClient> client_;
};

std::optional<DiskCache> open_cache(const Options& options, const Logger& logger)
{
    auto cache = DiskCache::open(options.cache_dir);
    if (auto* problem = std::get_if<std::string>(&cache)) {
        logger.debug("cache unavailable: " + *problem);
        return std::nullopt;
    }
    return std::move(std::get<DiskCache>(cache));
}

std::variant<std::optional<UsernameMap>, std::string> load_username_map(const Options& options)
{
    if (options.username_map.empty()) {
        return std::optional<UsernameMap>{};
    }
    auto file = read_config_file(options.username_map, 0, "username_map file");
    if (auto* error = std::get_if<ConfigError>(&file)) {
        return error->message;
    }
    auto parsed = UsernameMap::parse(std::get<ConfigFileText>(file).text, options.case_insensitive);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
        return options.username_map + ": " + *problem;
    }
    return std::optional<UsernameMap>(std::move(std::get<UsernameMap>(parsed)));
}

} // namespace

Decision authenticate_token(std::string_view user, const SecureString& token, const Options& options,
                            const HttpClientFactory& make_http, const Clock& now, const Logger& logger)
{
    if (auto problem = check_pam_user(user)) {
        return refuse(Outcome::Denied, *problem, false);
    }
    if (auto problem = check_deny_users(user, options)) {
        return refuse(Outcome::Denied, *problem, true);
    }
    if (auto problem = check_token_syntax(token.view(), options.max_token_bytes)) {
        return refuse(Outcome::Denied, with_truncation_hint(*problem, token), true);
    }
    // The map is read before any network call: a broken map is a configuration error, not a refusal.
    auto loaded_map = load_username_map(options);
    if (auto* problem = std::get_if<std::string>(&loaded_map)) {
        return refuse(Outcome::ConfigError, "configuration error: " + *problem, true);
    }
    const auto& map = std::get<std::optional<UsernameMap>>(loaded_map);

    // Only logins that can use it touch the cache directory (JWKS for jwt, verdicts for cache_ttl).
    const bool wants_cache = options.cache_ttl_seconds > 0 || std::find(options.verify.begin(), options.verify.end(),
                                                                        VerifyMethod::Jwt) != options.verify.end();
    const std::optional<DiskCache> cache = wants_cache ? open_cache(options, logger) : std::nullopt;
    const DiskCache* cache_ptr = cache ? &*cache : nullptr;
    LazyHttpClient http(make_http, options);
    RemoteKeySource keys(options, http, cache_ptr, now, logger);
    const VerdictCache verdicts(cache_ptr, options, now);

    for (const auto method : options.verify) {
        std::unique_ptr<TokenVerifier> verifier;
        switch (method) {
        case VerifyMethod::Userinfo: verifier = std::make_unique<UserinfoVerifier>(options, http); break;
        case VerifyMethod::Introspect: verifier = std::make_unique<IntrospectionVerifier>(options, http); break;
        case VerifyMethod::Jwt: verifier = std::make_unique<JwtVerifier>(options, keys); break;
        }
        if (!verifier->applies_to(token)) {
            logger.debug(std::string("method ") + verifier->name() + " does not apply to this token");
            continue;
        }
        // The first method that applies decides: a failed check never falls through to another method.
        VerifyResult result;
        if (auto cached = verdicts.find(method, token)) {
            logger.debug(std::string(verifier->name()) + ": " + cached->detail);
            result = std::move(*cached);
        } else {
            result = verifier->verify(token);
            verdicts.store(method, token, result);
        }
        Decision decision;
        decision.method = verifier->name();
        decision.user_loggable = true;
        switch (result.status) {
        case VerifyStatus::Unavailable:
            decision.outcome = Outcome::Unavailable;
            decision.reason = result.detail;
            return decision;
        case VerifyStatus::Invalid:
            decision.outcome = Outcome::Denied;
            decision.reason = with_truncation_hint(result.detail, token);
            return decision;
        case VerifyStatus::Valid: break;
        }
        if (auto problem = check_claims(result.claims, user, options, now(), method, map ? &*map : nullptr)) {
            decision.outcome = Outcome::Denied;
            decision.reason = *problem;
            return decision;
        }
        decision.outcome = Outcome::Granted;
        decision.reason = "token accepted";
        decision.expires_at = result.expires_at;
        return decision;
    }
    return refuse(Outcome::Denied, "no verify method applies to this token", true);
}

} // namespace pam_oauth2
