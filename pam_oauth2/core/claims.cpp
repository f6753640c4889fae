#include "claims.hpp"
#include "settings.hpp"

#include "claim_reference.hpp"
#include "json.hpp"
#include "lifetime.hpp"
#include "text.hpp"

#include <algorithm>

namespace pam_oauth2 {
namespace {

// A claim holding one string or an array of strings, as scope/groups/aud are found in the wild.
std::vector<std::string> string_items(const nlohmann::json& value, bool split_spaces)
{
    std::vector<std::string> items;
    const auto add = [&](const std::string& text) {
        if (!split_spaces) {
            items.push_back(text);
            return;
        }
        std::size_t start = 0;
        while (start < text.size()) {
            const auto space = text.find(' ', start);
            const auto end = space == std::string::npos ? text.size() : space;
            if (end > start) {
                items.push_back(text.substr(start, end - start));
            }
            start = end + 1;
        }
    };
    if (value.is_string()) {
        add(value.get<std::string>());
    } else if (value.is_array()) {
        for (const auto& element : value) {
            if (element.is_string()) {
                add(element.get<std::string>());
            }
        }
    }
    return items;
}

// Groups as providers send them: a string, an array of strings, or an object keyed by group (ZITADEL's
// role claims), whose keys are the groups.
std::vector<std::string> group_names(const nlohmann::json& value)
{
    if (!value.is_object()) {
        return string_items(value, false);
    }
    std::vector<std::string> names;
    for (const auto& item : value.items()) {
        names.push_back(item.key());
    }
    return names;
}

bool contains(const std::vector<std::string>& items, const std::string& wanted)
{
    return std::find(items.begin(), items.end(), wanted) != items.end();
}

std::optional<std::string> check_username(const nlohmann::json& claims, std::string_view user, const UserRules& users,
                                          const UsernameMap* map)
{
    const nlohmann::json* found = find_claim(claims, users.username_claim);
    if (found == nullptr) {
        return "claim " + users.username_claim + " is missing";
    }
    if (!found->is_string()) {
        return "claim " + users.username_claim + " is " + json_type_phrase(*found) + ", not a string";
    }
    const auto& value = found->get_ref<const std::string&>();
    if (map != nullptr) {
        if (!map->maps(value, user)) {
            return "claim " + users.username_claim + " is '" + log_safe(value) +
                   "', which username_map does not map to '" + std::string(user) + "'";
        }
        return std::nullopt;
    }
    const bool same = users.case_insensitive ? equal_ignoring_ascii_case(value, user) : value == user;
    if (!same) {
        return "claim " + users.username_claim + " is '" + log_safe(value) + "', PAM user is '" + std::string(user) +
               "'";
    }
    return std::nullopt;
}

std::optional<std::string> check_required_claim(const nlohmann::json& claims, const std::string& name,
                                                const std::string& wanted)
{
    const nlohmann::json* found = find_claim(claims, name);
    if (found == nullptr) {
        return "required claim " + name + " is missing";
    }
    bool holds = false;
    if (found->is_string() || found->is_array()) {
        holds = contains(string_items(*found, false), wanted);
    } else if (found->is_boolean() || found->is_number()) {
        holds = found->dump() == wanted;
    }
    if (!holds) {
        return "required claim " + name + "=" + wanted + " does not hold";
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> check_pam_user(std::string_view user)
{
    if (user.empty() || user.size() > 256) {
        return std::string("PAM user name is empty or longer than 256 bytes");
    }
    for (const char c : user) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) {
            return std::string("PAM user name contains whitespace or a control character");
        }
    }
    return std::nullopt;
}

std::optional<std::string> check_deny_users(std::string_view user, const UserRules& users)
{
    for (const auto& denied : users.deny_users) {
        if (equal_ignoring_ascii_case(denied, user)) {
            return "PAM user '" + std::string(user) + "' is in deny_users";
        }
    }
    return std::nullopt;
}

std::optional<std::string> check_issuer(const nlohmann::json& claims, const TokenRules& token)
{
    const auto iss = string_member(claims, "iss");
    std::string expected = token.issuer;
    const auto slot = expected.find(tenant_placeholder);
    if (slot != std::string::npos) {
        // Multi-tenant: the tenant comes from the token, so it must be one we accept, and the issuer
        // must be that tenant's.
        const auto tid = string_member(claims, "tid");
        if (!tid || std::find(token.tenants.begin(), token.tenants.end(), *tid) == token.tenants.end()) {
            return "tenant '" + log_safe(tid.value_or("(missing)")) + "' is not in tenants=";
        }
        expected.replace(slot, tenant_placeholder.size(), *tid);
    }
    if (!iss || *iss != expected) {
        return "issuer is '" + log_safe(iss.value_or("(missing)")) + "', expected '" + expected + "'";
    }
    return std::nullopt;
}

std::vector<RuleCheck> judge_claim_rules(const nlohmann::json& claims, std::string_view user, const TokenRules& token,
                                         const UserRules& users, long long now, VerifyMethod method,
                                         const UsernameMap* map)
{
    std::vector<RuleCheck> checks;
    const auto judge = [&](std::string rule, std::optional<std::string> problem) {
        checks.push_back({std::move(rule), std::move(problem)});
    };
    auto times = read_token_times(claims);
    if (auto* problem = std::get_if<std::string>(&times)) {
        judge("lifetime", *problem);
    } else {
        judge("lifetime", check_token_times(std::get<TokenTimes>(times), now, token.leeway_seconds));
    }
    const bool describes_token = method != VerifyMethod::Userinfo;
    if (describes_token && !token.issuer.empty()) {
        judge("issuer", check_issuer(claims, token));
    }
    if (describes_token && !token.audience.empty()) {
        const auto found = claims.find("aud");
        const bool listed = found != claims.end() && contains(string_items(*found, false), token.audience);
        judge("audience", listed
                              ? std::nullopt
                              : std::optional<std::string>("audience " + token.audience + " not in the token's aud"));
    }
    judge(map != nullptr ? "username_map" : "username", check_username(claims, user, users, map));
    if (!users.scope.empty()) {
        std::vector<std::string> granted;
        if (const auto scope = claims.find("scope"); scope != claims.end()) {
            granted = string_items(*scope, true);
        } else if (const auto scp = claims.find("scp"); scp != claims.end()) {
            granted = string_items(*scp, true);
        }
        std::optional<std::string> missing;
        for (const auto& wanted : users.scope) {
            if (!missing && !contains(granted, wanted)) {
                missing = "scope " + wanted + " is missing";
            }
        }
        judge("scope", missing);
    }
    if (!users.groups.empty()) {
        std::vector<std::string> member_of;
        if (const nlohmann::json* found = find_claim(claims, users.groups_claim); found != nullptr) {
            member_of = group_names(*found);
        }
        const bool allowed = std::any_of(users.groups.begin(), users.groups.end(),
                                         [&](const std::string& group) { return contains(member_of, group); });
        judge("groups", allowed
                            ? std::nullopt
                            : std::optional<std::string>("user is in none of the groups allowed by groups= (claim " +
                                                         users.groups_claim + ")"));
    }
    for (const auto& [name, wanted] : users.require_claims) {
        judge("require_claims " + name, check_required_claim(claims, name, wanted));
    }
    return checks;
}

std::optional<std::string> check_claims(const nlohmann::json& claims, std::string_view user, const TokenRules& token,
                                        const UserRules& users, long long now, VerifyMethod method,
                                        const UsernameMap* map)
{
    for (auto& check : judge_claim_rules(claims, user, token, users, now, method, map)) {
        if (check.problem) {
            return std::move(check.problem);
        }
    }
    return std::nullopt;
}

} // namespace pam_oauth2
