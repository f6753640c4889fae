#include "authenticator.hpp"

#include "claims.hpp"
#include "lifetime.hpp"
#include "login_verifiers.hpp"
#include "presented_token.hpp"
#include "token_kind.hpp"
#include "token_syntax.hpp"

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

std::string with_truncation_hint(std::string reason, const PresentedToken& token)
{
    if (auto hint = truncation_hint(token)) {
        reason += "; " + *hint;
    }
    return reason;
}

// The refusals that need neither the network nor the cache.
std::optional<Decision> check_before_verifying(std::string_view user, const SecureString& token,
                                               const Settings& settings)
{
    if (auto problem = check_pam_user(user)) {
        return refuse(Outcome::Denied, *problem, false);
    }
    if (auto problem = check_deny_users(user, settings.users)) {
        return refuse(Outcome::Denied, *problem, true);
    }
    if (auto problem = check_token_syntax(token.view(), settings.token.max_bytes)) {
        return refuse(Outcome::Denied, with_truncation_hint(*problem, PresentedToken(token)), true);
    }
    return std::nullopt;
}

// A verdict reused from the cache, or the verifier's answer (`fresh` says which).
VerifyResult verify_or_reuse(const LoginVerifiers::Entry& entry, const VerdictCache& verdicts,
                             const PresentedToken& token, const Logger& logger, bool& fresh)
{
    if (auto cached = verdicts.find(entry.method, token)) {
        logger.debug(std::string(entry.verifier->name()) + ": " + cached->detail);
        fresh = false;
        return std::move(*cached);
    }
    fresh = true;
    return entry.verifier->verify(token);
}

// The rules every verified token must pass: access token, lifetime, issuer, audience, user, scope,
// groups, required claims.
std::optional<std::string> check_verified(const VerifyResult& result, std::string_view user,
                                          const Configuration& configuration, VerifyMethod method, long long now)
{
    const Settings& settings = configuration.settings;
    // Userinfo answers describe the user, not the token: they carry no token type.
    if (method != VerifyMethod::Userinfo) {
        if (auto problem = check_token_kind(result, settings.token)) {
            return problem;
        }
    }
    const UsernameMap* map = configuration.username_map ? &*configuration.username_map : nullptr;
    return check_claims(result.claims, user, settings.token, settings.users, now, method, map);
}

// Only decides: the first method that applies judges the token, then the claim rules.
Decision decide(std::string_view user, const PresentedToken& token, const Configuration& configuration,
                const LoginVerifiers& verifiers, long long now, const Logger& logger)
{
    const Settings& settings = configuration.settings;
    for (const auto& entry : verifiers.in_order()) {
        if (!entry.verifier->applies_to(token)) {
            logger.debug(std::string("method ") + entry.verifier->name() + " does not apply to this token");
            continue;
        }
        // A failed check never falls through to another method.
        bool fresh = false;
        const VerifyResult result = verify_or_reuse(entry, verifiers.verdicts(), token, logger, fresh);
        Decision decision;
        decision.method = entry.verifier->name();
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
        if (auto problem = check_verified(result, user, configuration, entry.method, now)) {
            decision.outcome = Outcome::Denied;
            decision.reason = *problem;
            return decision;
        }
        // Only verdicts that passed every rule are kept: a refused login leaves nothing on disk.
        if (fresh) {
            verifiers.verdicts().store(entry.method, token, result);
        }
        decision.outcome = Outcome::Granted;
        decision.reason = "token accepted";
        if (result.expires_at) {
            decision.valid_until = accepted_until(*result.expires_at, settings.token.leeway_seconds);
        }
        return decision;
    }
    return refuse(Outcome::Denied, "no verify method applies to this token", true);
}

} // namespace

Decision decide_login(std::string_view user, const SecureString& token, const Configuration& configuration,
                      const HttpClientFactory& make_http, const Clock& now, const Logger& logger)
{
    if (auto refusal = check_before_verifying(user, token, configuration.settings)) {
        return std::move(*refusal);
    }
    const PresentedToken presented(token);
    const LoginVerifiers verifiers(configuration, make_http, now, logger);
    return decide(user, presented, configuration, verifiers, now(), logger);
}

} // namespace pam_oauth2
