#include "authenticator.hpp"

#include "claims.hpp"
#include "json.hpp"
#include "lifetime.hpp"
#include "login_observer.hpp"
#include "login_verifiers.hpp"
#include "presented_token.hpp"
#include "text.hpp"
#include "token_kind.hpp"
#include "token_syntax.hpp"

#include <iterator>

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

// Who judges a token for one method: a verifier and the settings and map its rules come from.
struct Judge {
    VerifyMethod method;
    TokenVerifier* verifier;
    const Settings* settings;
    const UsernameMap* map;
};

const UsernameMap* map_of(const std::optional<UsernameMap>& map)
{
    return map ? &*map : nullptr;
}

// The method's verifier with the shared settings; or, for jwt with [issuer] sections, the section of
// the token's iss. That iss is read unverified and only chooses the section, whose keys and rules
// then judge the token. The reason when no section matches.
std::variant<Judge, std::string> judge_for(const LoginVerifiers::Entry& entry, const PresentedToken& token,
                                           const Configuration& configuration, const LoginVerifiers& verifiers)
{
    const Judge shared{entry.method, entry.verifier.get(), &configuration.settings, map_of(configuration.username_map)};
    if (entry.method != VerifyMethod::Jwt || configuration.issuers.empty() || token.jws() == nullptr) {
        return shared; // a token that is no strict JWS is refused by the shared verifier as malformed
    }
    const auto* section = verifiers.for_payload(token.jws()->payload);
    if (section == nullptr) {
        const auto iss = string_member(token.jws()->payload, "iss");
        return "token issuer '" + log_safe(iss.value_or("(missing)")) + "' matches no [issuer] section";
    }
    return Judge{entry.method, section->verifier.get(), &section->issuer->settings,
                 map_of(section->issuer->username_map)};
}

// A verdict reused from the cache, or the verifier's answer (`fresh` says which).
VerifyResult verify_or_reuse(const Judge& judge, const VerdictCache& verdicts, const PresentedToken& token,
                             const Logger& logger, bool& fresh)
{
    LoginObserver* observer = logger.observer();
    if (auto cached = verdicts.find(judge.method, token)) {
        logger.debug(std::string(judge.verifier->name()) + ": " + cached->detail);
        if (observer != nullptr) {
            observer->verdict_cache_hit(cached->detail);
        }
        fresh = false;
        return std::move(*cached);
    }
    if (observer != nullptr && judge.method != VerifyMethod::Jwt && judge.settings->cache.ttl_seconds > 0) {
        observer->verdict_cache_miss();
    }
    fresh = true;
    return judge.verifier->verify(token);
}

// The rules every verified token must pass: access token, lifetime, issuer, audience, user, scope,
// groups, required claims. The first that fails, after each was shown to the observer.
std::optional<std::string> check_verified(const VerifyResult& result, std::string_view user, const Judge& judge,
                                          long long now, const Logger& logger)
{
    const Settings& settings = *judge.settings;
    std::vector<RuleCheck> checks;
    // Userinfo answers describe the user, not the token: they carry no token type.
    if (judge.method != VerifyMethod::Userinfo) {
        checks.push_back({"access token", check_token_kind(result, settings.token)});
    }
    auto claim_rules =
        judge_claim_rules(result.claims, user, settings.token, settings.users, now, judge.method, judge.map);
    std::move(claim_rules.begin(), claim_rules.end(), std::back_inserter(checks));
    std::optional<std::string> first_problem;
    for (auto& check : checks) {
        if (auto* observer = logger.observer()) {
            observer->rule(check);
        }
        if (check.problem && !first_problem) {
            first_problem = std::move(check.problem);
        }
    }
    return first_problem;
}

// Tells the observer which [issuer] section judges the token, when the conf= file has sections.
void observe_section(const Judge& judge, const Configuration& configuration, const Logger& logger)
{
    LoginObserver* observer = logger.observer();
    if (observer == nullptr || judge.settings == &configuration.settings) {
        return;
    }
    IssuerSectionEvent event;
    event.found = true;
    event.issuer = judge.settings->token.issuer;
    for (const auto& issuer : configuration.issuers) {
        if (&issuer.settings == judge.settings) {
            event.section = issuer.name;
        }
    }
    observer->issuer_section(event);
}

// The verifier's answer and the rules, for the method `entry` that applies to the token. A failed
// check never falls through to another method.
Decision judge_token(std::string_view user, const PresentedToken& token, const Configuration& configuration,
                     const LoginVerifiers& verifiers, const LoginVerifiers::Entry& entry, long long now,
                     const Logger& logger)
{
    Decision decision = refuse(Outcome::Denied, "", true);
    decision.method = entry.verifier->name();
    auto chosen = judge_for(entry, token, configuration, verifiers);
    if (auto* refusal = std::get_if<std::string>(&chosen)) {
        if (auto* observer = logger.observer()) {
            observer->issuer_section({false, {}, {}, *refusal});
        }
        decision.reason = std::move(*refusal);
        return decision;
    }
    const Judge& judge = std::get<Judge>(chosen);
    observe_section(judge, configuration, logger);
    bool fresh = false;
    const VerifyResult result = verify_or_reuse(judge, verifiers.verdicts(), token, logger, fresh);
    if (auto* observer = logger.observer()) {
        observer->verified(judge.verifier->name(), judge.method, result);
    }
    switch (result.status) {
    case VerifyStatus::Unavailable:
        decision.outcome = Outcome::Unavailable;
        decision.reason = result.detail;
        return decision;
    case VerifyStatus::Invalid: decision.reason = with_truncation_hint(result.detail, token); return decision;
    case VerifyStatus::Valid: break;
    }
    decision.identity = identity_of(result.claims, judge.settings->token.issuer);
    if (auto problem = check_verified(result, user, judge, now, logger)) {
        decision.reason = *problem;
        return decision;
    }
    // Only verdicts that passed every rule are kept: a refused login leaves nothing on disk.
    if (fresh && verifiers.verdicts().store(entry.method, token, result)) {
        if (auto* observer = logger.observer()) {
            observer->verdict_cache_written(judge.settings->cache.ttl_seconds);
        }
    }
    decision.outcome = Outcome::Granted;
    decision.reason = "token accepted";
    if (result.expires_at) {
        decision.valid_until = accepted_until(*result.expires_at, judge.settings->token.leeway_seconds);
    }
    return decision;
}

// Only decides: the first method that applies judges the token, then the claim rules.
Decision decide(std::string_view user, const PresentedToken& token, const Configuration& configuration,
                const LoginVerifiers& verifiers, long long now, const Logger& logger)
{
    for (const auto& entry : verifiers.in_order()) {
        const bool applies = entry.verifier->applies_to(token);
        if (auto* observer = logger.observer()) {
            observer->method(entry.verifier->name(), entry.method, applies);
        }
        if (applies) {
            return judge_token(user, token, configuration, verifiers, entry, now, logger);
        }
        logger.debug(std::string("method ") + entry.verifier->name() + " does not apply to this token");
    }
    return refuse(Outcome::Denied, "no verify method applies to this token", true);
}

} // namespace

Decision decide_login(std::string_view user, const SecureString& token, const Configuration& configuration,
                      const HttpClientFactory& make_http, const Clock& now, const Logger& logger,
                      const DocumentStore* store)
{
    auto refusal = check_before_verifying(user, token, configuration.settings);
    if (auto* observer = logger.observer()) {
        observer->before_verifying(refusal ? &refusal->reason : nullptr);
    }
    if (refusal) {
        return std::move(*refusal);
    }
    const PresentedToken presented(token);
    const LoginVerifiers verifiers(configuration, make_http, now, logger, store);
    return decide(user, presented, configuration, verifiers, now(), logger);
}

} // namespace pam_oauth2
