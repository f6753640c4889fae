#include "authenticator.hpp"

#include "claims.hpp"
#include "introspection_verifier.hpp"
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

std::unique_ptr<TokenVerifier> make_verifier(VerifyMethod method, const Options& options, HttpClient& http)
{
    switch (method) {
    case VerifyMethod::Userinfo: return std::make_unique<UserinfoVerifier>(options, http);
    case VerifyMethod::Introspect: return std::make_unique<IntrospectionVerifier>(options, http);
    case VerifyMethod::Jwt: break; // rejected by option validation in this version
    }
    return nullptr;
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

    HttpSettings settings;
    settings.ca_file = options.ca_file;
    settings.ca_path = options.ca_path;
    settings.timeout_ms = options.timeout_ms;
    settings.connect_timeout_ms = options.connect_timeout_ms;
    settings.allow_http = options.allow_http;
    const auto http = make_http(settings);

    for (const auto method : options.verify) {
        const auto verifier = make_verifier(method, options, *http);
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
        if (auto problem = check_claims(result.claims, user, options, now())) {
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
