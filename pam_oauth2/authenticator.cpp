#include "authenticator.hpp"

#include "cache.hpp"
#include "claims.hpp"
#include "config_file.hpp"
#include "introspection_verifier.hpp"
#include "jwt_verifier.hpp"
#include "key_source.hpp"
#include "token_syntax.hpp"
#include "userinfo_verifier.hpp"

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

// Everything the verifiers of one login share: the transport, and for jwt the disk cache and keys.
class Verifiers {
public:
    Verifiers(const Options& options, const HttpClientFactory& make_http, const Clock& now, const Logger& logger)
        : options_(options), make_http_(make_http), now_(now), logger_(logger)
    {
    }

    std::unique_ptr<TokenVerifier> make(VerifyMethod method)
    {
        switch (method) {
        case VerifyMethod::Userinfo: return std::make_unique<UserinfoVerifier>(options_, http());
        case VerifyMethod::Introspect: return std::make_unique<IntrospectionVerifier>(options_, http());
        case VerifyMethod::Jwt: return std::make_unique<JwtVerifier>(options_, keys());
        }
        return nullptr;
    }

private:
    // Created on first use: a JWT checked against cached keys needs no transport at all.
    HttpClient& http()
    {
        if (!http_) {
            HttpSettings settings;
            settings.ca_file = options_.ca_file;
            settings.ca_path = options_.ca_path;
            settings.timeout_ms = options_.timeout_ms;
            settings.connect_timeout_ms = options_.connect_timeout_ms;
            settings.allow_http = options_.allow_http;
            http_ = make_http_(settings);
        }
        return *http_;
    }

    KeySource& keys()
    {
        if (!keys_) {
            auto cache = DiskCache::open(options_.cache_dir);
            if (auto* problem = std::get_if<std::string>(&cache)) {
                logger_.debug("JWKS cache unavailable: " + *problem);
            } else {
                cache_.emplace(std::move(std::get<DiskCache>(cache)));
            }
            // The transport is only created when the cache cannot answer.
            keys_ = std::make_unique<RemoteKeySource>(
                options_, [this]() -> HttpClient& { return http(); }, cache_ ? &*cache_ : nullptr, now_, logger_);
        }
        return *keys_;
    }

    const Options& options_;
    const HttpClientFactory& make_http_;
    const Clock& now_;
    const Logger& logger_;
    std::unique_ptr<HttpClient> http_;
    std::optional<DiskCache> cache_;
    std::unique_ptr<KeySource> keys_;
};

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
    std::optional<UsernameMap> map;
    if (!options.username_map.empty()) {
        auto file = read_config_file(options.username_map, 0, "username_map file");
        if (auto* error = std::get_if<ConfigError>(&file)) {
            return refuse(Outcome::ConfigError, "configuration error: " + error->message, true);
        }
        auto parsed = UsernameMap::parse(std::get<ConfigFileText>(file).text, options.case_insensitive);
        if (auto* problem = std::get_if<std::string>(&parsed)) {
            return refuse(Outcome::ConfigError, "configuration error: " + options.username_map + ": " + *problem, true);
        }
        map.emplace(std::move(std::get<UsernameMap>(parsed)));
    }

    Verifiers verifiers(options, make_http, now, logger);
    for (const auto method : options.verify) {
        const auto verifier = verifiers.make(method);
        if (!verifier) {
            return refuse(Outcome::ConfigError, std::string("verify method ") + method_name(method) + " is unavailable",
                          true);
        }
        if (!verifier->applies_to(token)) {
            logger.debug(std::string("method ") + verifier->name() + " does not apply to this token");
            continue;
        }
        // The first method that applies decides: a failed check never falls through to another method.
        const VerifyResult result = verifier->verify(token);
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
