#include "login_verifiers.hpp"

#include "claims.hpp"
#include "http_trace.hpp"
#include "introspection_verifier.hpp"
#include "jwt_verifier.hpp"
#include "userinfo_verifier.hpp"

#include <syslog.h>

namespace pam_oauth2 {

// Creates the real transport on the first request only: a login answered from a cache (JWKS or
// verdict) never loads libcurl. Each exchange is a step of the trace, when there is one.
class LoginVerifiers::LazyHttpClient final : public HttpClient {
public:
    LazyHttpClient(const HttpClientFactory& make, const HttpSettings& settings, const Logger& logger)
        : make_(make), settings_(settings), logger_(logger)
    {
    }
    HttpResult send(const HttpRequest& request) override
    {
        if (!client_) {
            client_ = make_(settings_);
        }
        return send_traced(*client_, request, logger_);
    }

private:
    const HttpClientFactory& make_;
    const HttpSettings& settings_;
    const Logger& logger_;
    std::unique_ptr<HttpClient> client_;
};

namespace {

std::optional<DiskCache> open_cache(const Settings& settings, const Logger& logger)
{
    // Only logins that can use it touch the cache directory (JWKS for jwt, verdicts for cache_ttl).
    const bool wants_cache = settings.cache.ttl_seconds > 0 || settings.uses(VerifyMethod::Jwt);
    if (!wants_cache) {
        return std::nullopt;
    }
    auto cache = DiskCache::open(settings.cache.dir);
    if (auto* problem = std::get_if<std::string>(&cache)) {
        // Logins still work without it, but every one fetches the issuer's keys (the rate limit on
        // refreshes lives there too): an administrator must hear of it.
        logger.log(LOG_WARNING, "cache unavailable, every login asks the identity provider: " + *problem);
        return std::nullopt;
    }
    return std::move(std::get<DiskCache>(cache));
}

} // namespace

LoginVerifiers::LoginVerifiers(const Configuration& configuration, const HttpClientFactory& make_http, const Clock& now,
                               const Logger& logger, const DocumentStore* store)
    : http_(std::make_unique<LazyHttpClient>(make_http, configuration.settings.http, logger)),
      disk_(store == nullptr ? open_cache(configuration.settings, logger) : std::nullopt),
      store_(store != nullptr ? store
             : disk_          ? &*disk_
                              : nullptr),
      keys_(configuration.settings.token.issuer, configuration.settings.jwt, configuration.settings.http, *http_,
            store_, now, logger),
      verdicts_(store_, configuration.settings.cache, configuration.settings.endpoints, now,
                trust_tag(configuration.settings.http))
{
    const Settings& settings = configuration.settings;
    for (const auto method : settings.verify) {
        std::unique_ptr<TokenVerifier> verifier;
        switch (method) {
        case VerifyMethod::Userinfo: verifier = std::make_unique<UserinfoVerifier>(settings.endpoints, *http_); break;
        case VerifyMethod::Introspect:
            verifier = std::make_unique<IntrospectionVerifier>(settings.endpoints, *http_);
            break;
        case VerifyMethod::Jwt: verifier = std::make_unique<JwtVerifier>(settings.jwt, keys_); break;
        }
        verifiers_.push_back({method, std::move(verifier)});
    }
    for (const auto& issuer : configuration.issuers) {
        const Settings& own = issuer.settings;
        auto keys = std::make_unique<RemoteKeySource>(own.token.issuer, own.jwt, own.http, *http_, store_, now, logger);
        auto verifier = std::make_unique<JwtVerifier>(own.jwt, *keys);
        issuers_.push_back({&issuer, std::move(keys), std::move(verifier)});
    }
}

const LoginVerifiers::IssuerEntry* LoginVerifiers::for_payload(const nlohmann::json& payload) const
{
    for (const auto& entry : issuers_) {
        if (!check_issuer(payload, entry.issuer->settings.token)) {
            return &entry;
        }
    }
    return nullptr;
}

LoginVerifiers::~LoginVerifiers() = default;

} // namespace pam_oauth2
