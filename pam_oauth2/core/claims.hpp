#pragma once

#include "settings_fwd.hpp"
#include "username_map.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pam_oauth2 {

/// Whether a PAM user name is fit to be compared and logged (1-256 bytes, no whitespace or
/// control characters). The reason, or nullopt when usable.
std::optional<std::string> check_pam_user(std::string_view user);

/// Refuses users listed in deny_users (ASCII case-insensitively: `ROOT` is still root).
std::optional<std::string> check_deny_users(std::string_view user, const UserRules& users);

/// The placeholder an issuer template holds for the token's tenant (Entra multi-tenant).
constexpr std::string_view tenant_placeholder = "{tenantid}";

/// Whether the token's iss is the configured issuer; for a template holding {tenantid}, the template
/// filled with the token's tid, which must be one of `tenants`. The reason when not.
std::optional<std::string> check_issuer(const nlohmann::json& claims, const TokenRules& token);

// One authorization rule applied to verified claims, and what came of it.
struct RuleCheck {
    std::string rule;                   // "lifetime", "issuer", "audience", "username", "scope", ...
    std::optional<std::string> problem; // why it does not hold; nullopt when it does
};

/// Every configured authorization rule on verified claims, each judged (not only up to the first that
/// fails), in the order check_claims applies them: what pam_oauth2_check --explain lists.
std::vector<RuleCheck> judge_claim_rules(const nlohmann::json& claims, std::string_view user, const TokenRules& token,
                                         const UserRules& users, long long now, VerifyMethod method,
                                         const UsernameMap* map = nullptr);

/// Every authorization rule on verified claims: token lifetime (exp/nbf/iat with leeway, when present),
/// issuer and audience (when configured; not for userinfo, whose answers describe the user rather than
/// the token; this is the one place the issuer is checked), username claim == PAM user, scopes,
/// groups, required claims.
/// With a username map the claim must be mapped to the PAM user by one of its lines instead of equal.
/// Returns the first rule that fails, worded for the log, or nullopt when all hold.
std::optional<std::string> check_claims(const nlohmann::json& claims, std::string_view user, const TokenRules& token,
                                        const UserRules& users, long long now, VerifyMethod method,
                                        const UsernameMap* map = nullptr);

} // namespace pam_oauth2
