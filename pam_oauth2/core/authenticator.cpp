#include "authenticator.hpp"

#include "claims.hpp"
#include "json.hpp"
#include "lifetime.hpp"
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
    if (auto cached = verdicts.find(judge.method, token)) {
        logger.debug(std::string(judge.verifier->name()) + ": " + cached->detail);
        logger.step("verdict cache", [&] { return nlohmann::json{{"hit", true}, {"detail", cached->detail}}; });
        fresh = false;
        return std::move(*cached);
    }
    if (judge.method != VerifyMethod::Jwt && judge.settings->cache.ttl_seconds > 0) {
        logger.step("verdict cache", [&] { return nlohmann::json{{"hit", false}}; });
    }
    fresh = true;
    return judge.verifier->verify(token);
}

// The rules every verified token must pass: access token, lifetime, issuer, audience, user, scope,
// groups, required claims. The first that fails, after each was traced.
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
        logger.step("rule", [&] {
            nlohmann::json step{{"rule", check.rule}, {"holds", !check.problem}};
            if (check.problem) {
                step["problem"] = *check.problem;
            }
            return step;
        });
        if (check.problem && !first_problem) {
            first_problem = std::move(check.problem);
        }
    }
    return first_problem;
}

// What a verifier answered, for the trace: its status and what it vouched with.
nlohmann::json verification_step(const Judge& judge, const VerifyResult& result)
{
    const char* status = "unavailable";
    switch (result.status) {
    case VerifyStatus::Valid: status = "valid"; break;
    case VerifyStatus::Invalid: status = "invalid"; break;
    case VerifyStatus::Unavailable: break;
    }
    nlohmann::json step{{"method", judge.verifier->name()}, {"status", status}, {"detail", result.detail}};
    if (!result.signing_key.empty()) {
        step["signing_key"] = result.signing_key;
    }
    if (result.status == VerifyStatus::Valid && judge.method != VerifyMethod::Jwt) {
        step["claims"] = result.claims; // the provider's answer; a JWT's claims are the token's own
    }
    return step;
}

// Only decides: the first method that applies judges the token, then the claim rules.
Decision decide(std::string_view user, const PresentedToken& token, const Configuration& configuration,
                const LoginVerifiers& verifiers, long long now, const Logger& logger)
{
    for (const auto& entry : verifiers.in_order()) {
        const bool applies = entry.verifier->applies_to(token);
        logger.step("method", [&] {
            return nlohmann::json{{"method", entry.verifier->name()},
                                  {"applies", applies},
                                  {"why", entry.method != VerifyMethod::Jwt
                                              ? "asks the identity provider about any token"
                                          : applies ? "the token looks like a JWT"
                                                    : "the token does not look like a JWT"}};
        });
        if (!applies) {
            logger.debug(std::string("method ") + entry.verifier->name() + " does not apply to this token");
            continue;
        }
        Decision decision;
        decision.method = entry.verifier->name();
        decision.user_loggable = true;
        // A failed check never falls through to another method.
        auto chosen = judge_for(entry, token, configuration, verifiers);
        if (auto* refusal = std::get_if<std::string>(&chosen)) {
            logger.step("issuer section", [&] { return nlohmann::json{{"found", false}, {"problem", *refusal}}; });
            decision.outcome = Outcome::Denied;
            decision.reason = std::move(*refusal);
            return decision;
        }
        const Judge& judge = std::get<Judge>(chosen);
        if (judge.settings != &configuration.settings) {
            logger.step("issuer section", [&] {
                nlohmann::json step{{"found", true}, {"issuer", judge.settings->token.issuer}};
                for (const auto& issuer : configuration.issuers) {
                    if (&issuer.settings == judge.settings) {
                        step["section"] = issuer.name;
                    }
                }
                return step;
            });
        }
        bool fresh = false;
        const VerifyResult result = verify_or_reuse(judge, verifiers.verdicts(), token, logger, fresh);
        logger.step("verify", [&] { return verification_step(judge, result); });
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
        if (auto problem = check_verified(result, user, judge, now, logger)) {
            decision.outcome = Outcome::Denied;
            decision.reason = *problem;
            return decision;
        }
        // Only verdicts that passed every rule are kept: a refused login leaves nothing on disk.
        if (fresh && verifiers.verdicts().store(entry.method, token, result)) {
            logger.step("verdict cache", [&] {
                return nlohmann::json{{"written", true}, {"for_seconds", judge.settings->cache.ttl_seconds}};
            });
        }
        decision.outcome = Outcome::Granted;
        decision.reason = "token accepted";
        if (result.expires_at) {
            decision.valid_until = accepted_until(*result.expires_at, judge.settings->token.leeway_seconds);
        }
        return decision;
    }
    return refuse(Outcome::Denied, "no verify method applies to this token", true);
}

} // namespace

Decision decide_login(std::string_view user, const SecureString& token, const Configuration& configuration,
                      const HttpClientFactory& make_http, const Clock& now, const Logger& logger,
                      const DocumentStore* store)
{
    if (auto refusal = check_before_verifying(user, token, configuration.settings)) {
        logger.step("before verifying", [&] { return nlohmann::json{{"holds", false}, {"problem", refusal->reason}}; });
        return std::move(*refusal);
    }
    logger.step("before verifying", [&] {
        return nlohmann::json{{"holds", true}, {"checked", "PAM user, deny_users, token syntax and max_token_bytes"}};
    });
    const PresentedToken presented(token);
    const LoginVerifiers verifiers(configuration, make_http, now, logger, store);
    return decide(user, presented, configuration, verifiers, now(), logger);
}

} // namespace pam_oauth2
