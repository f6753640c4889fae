#include "claims.hpp"

#include "ascii.hpp"
#include "json.hpp"

#include <algorithm>

namespace pam_oauth2 {
namespace {

// Claim values quoted in reasons are capped so a hostile provider cannot flood the log.
std::string shown(std::string_view value)
{
    constexpr std::size_t limit = 64;
    return value.size() <= limit ? std::string(value) : std::string(value.substr(0, limit)) + "...";
}

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

bool contains(const std::vector<std::string>& items, const std::string& wanted)
{
    return std::find(items.begin(), items.end(), wanted) != items.end();
}

std::optional<std::string> check_lifetime(const nlohmann::json& claims, const Options& options, long long now)
{
    if (claims.contains("exp")) {
        const auto exp = integer_member(claims, "exp");
        if (!exp) {
            return std::string("claim exp is not a number");
        }
        if (now > *exp + options.leeway_seconds) {
            return "token expired " + std::to_string(now - *exp) + " s ago (leeway " +
                   std::to_string(options.leeway_seconds) + " s)";
        }
    }
    if (claims.contains("nbf")) {
        const auto nbf = integer_member(claims, "nbf");
        if (!nbf) {
            return std::string("claim nbf is not a number");
        }
        if (now + options.leeway_seconds < *nbf) {
            return "token not valid for another " + std::to_string(*nbf - now) + " s (nbf)";
        }
    }
    if (claims.contains("iat")) {
        const auto iat = integer_member(claims, "iat");
        if (!iat) {
            return std::string("claim iat is not a number");
        }
        if (*iat > now + options.leeway_seconds) {
            return "token issued " + std::to_string(*iat - now) + " s in the future (iat); check the clocks";
        }
    }
    return std::nullopt;
}

std::optional<std::string> check_username(const nlohmann::json& claims, std::string_view user, const Options& options,
                                          const UsernameMap* map)
{
    const auto found = claims.find(options.username_claim);
    if (found == claims.end()) {
        return "claim " + options.username_claim + " is missing";
    }
    if (!found->is_string()) {
        return "claim " + options.username_claim + " is " + json_type_phrase(*found) + ", not a string";
    }
    const auto& value = found->get_ref<const std::string&>();
    if (map != nullptr) {
        if (!map->maps(value, user)) {
            return "claim " + options.username_claim + " is '" + shown(value) +
                   "', which username_map does not map to '" + std::string(user) + "'";
        }
        return std::nullopt;
    }
    const bool same = options.case_insensitive ? equal_ignoring_ascii_case(value, user) : value == user;
    if (!same) {
        return "claim " + options.username_claim + " is '" + shown(value) + "', PAM user is '" + std::string(user) +
               "'";
    }
    return std::nullopt;
}

std::optional<std::string> check_required_claim(const nlohmann::json& claims, const std::string& name,
                                                const std::string& wanted)
{
    const auto found = claims.find(name);
    if (found == claims.end()) {
        return "required claim " + name + " is missing";
    }
    bool holds = false;
    if (found->is_string() || found->is_array()) {
        holds = contains(string_items(*found, false), wanted);
    } else if (found->is_boolean() || found->is_number()) {
        holds = found->dump() == wanted;
    }
    if (!holds) {
        return "required claim " + name + ":" + wanted + " does not hold";
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

std::optional<std::string> check_deny_users(std::string_view user, const Options& options)
{
    for (const auto& denied : options.deny_users) {
        if (equal_ignoring_ascii_case(denied, user)) {
            return "PAM user '" + std::string(user) + "' is in deny_users";
        }
    }
    return std::nullopt;
}

std::optional<std::string> check_claims(const nlohmann::json& claims, std::string_view user, const Options& options,
                                        long long now, VerifyMethod method, const UsernameMap* map)
{
    if (auto problem = check_lifetime(claims, options, now)) {
        return problem;
    }
    const bool describes_token = method != VerifyMethod::Userinfo;
    if (describes_token && !options.issuer.empty()) {
        const auto iss = string_member(claims, "iss");
        if (!iss || *iss != options.issuer) {
            return "issuer is '" + shown(iss.value_or("(missing)")) + "', expected '" + options.issuer + "'";
        }
    }
    if (describes_token && !options.audience.empty()) {
        const auto found = claims.find("aud");
        if (found == claims.end() || !contains(string_items(*found, false), options.audience)) {
            return "audience " + options.audience + " not in the token's aud";
        }
    }
    if (auto problem = check_username(claims, user, options, map)) {
        return problem;
    }
    if (!options.scope.empty()) {
        std::vector<std::string> granted;
        if (const auto scope = claims.find("scope"); scope != claims.end()) {
            granted = string_items(*scope, true);
        } else if (const auto scp = claims.find("scp"); scp != claims.end()) {
            granted = string_items(*scp, true);
        }
        for (const auto& wanted : options.scope) {
            if (!contains(granted, wanted)) {
                return "scope " + wanted + " is missing";
            }
        }
    }
    if (!options.groups.empty()) {
        std::vector<std::string> member_of;
        if (const auto found = claims.find(options.groups_claim); found != claims.end()) {
            member_of = string_items(*found, false);
        }
        const bool allowed = std::any_of(options.groups.begin(), options.groups.end(),
                                         [&](const std::string& group) { return contains(member_of, group); });
        if (!allowed) {
            return "user is in none of the groups allowed by groups= (claim " + options.groups_claim + ")";
        }
    }
    for (const auto& [name, wanted] : options.require_claims) {
        if (auto problem = check_required_claim(claims, name, wanted)) {
            return problem;
        }
    }
    return std::nullopt;
}

} // namespace pam_oauth2
