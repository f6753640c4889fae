#include "claims.hpp"
#include "settings.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;
using nlohmann::json;

namespace {
constexpr long long now = 1'700'000'000;

// The rules under test read the two rule sets of the settings.
std::optional<std::string> check_claims(const json& claims, std::string_view user, const Settings& settings,
                                        long long at, VerifyMethod method)
{
    return pam_oauth2::check_claims(claims, user, settings.token, settings.users, at, method);
}

std::optional<std::string> check_deny_users(std::string_view user, const Settings& settings)
{
    return pam_oauth2::check_deny_users(user, settings.users);
}
} // namespace

TEST_CASE("the username claim must be a string equal to the PAM user")
{
    Settings options;
    CHECK_FALSE(check_claims(json{{"preferred_username", "alice"}}, "alice", options, now, VerifyMethod::Introspect));
    CHECK(*check_claims(json{{"preferred_username", "bob"}}, "alice", options, now, VerifyMethod::Introspect) ==
          "claim preferred_username is 'bob', PAM user is 'alice'");
    CHECK(*check_claims(json{{"sub", "alice"}}, "alice", options, now, VerifyMethod::Introspect) ==
          "claim preferred_username is missing");
    CHECK(*check_claims(json{{"preferred_username", 7}}, "alice", options, now, VerifyMethod::Introspect) ==
          "claim preferred_username is a number, not a string");
    CHECK(*check_claims(json{{"preferred_username", json::array({"alice"})}}, "alice", options, now,
                        VerifyMethod::Introspect) == "claim preferred_username is an array, not a string");
    CHECK(check_claims(json{{"preferred_username", "Alice"}}, "alice", options, now, VerifyMethod::Introspect));
    options.users.case_insensitive = true;
    CHECK_FALSE(check_claims(json{{"preferred_username", "Alice"}}, "alice", options, now, VerifyMethod::Introspect));
    CHECK(check_claims(json{{"preferred_username", "alice2"}}, "alice", options, now, VerifyMethod::Introspect));
    options.users.username_claim = "email";
    CHECK_FALSE(check_claims(json{{"email", "A@x.org"}}, "a@x.org", options, now, VerifyMethod::Introspect));
}

TEST_CASE("long claim values are shortened in reasons")
{
    const Settings options;
    const auto reason = check_claims(json{{"preferred_username", std::string(500, 'x')}}, "alice", options, now,
                                     VerifyMethod::Introspect);
    REQUIRE(reason);
    CHECK(reason->size() < 200);
}

TEST_CASE("deny_users and PAM user validation")
{
    Settings options;
    CHECK(check_deny_users("root", options));
    CHECK(check_deny_users("ROOT", options));
    CHECK(check_deny_users("postgres", options));
    CHECK_FALSE(check_deny_users("alice", options));
    options.users.deny_users.clear();
    CHECK_FALSE(check_deny_users("root", options));

    CHECK_FALSE(check_pam_user("alice"));
    CHECK_FALSE(check_pam_user("alice@example.com"));
    CHECK(check_pam_user(""));
    CHECK(check_pam_user("ali ce"));
    CHECK(check_pam_user("alice\n"));
    CHECK(check_pam_user(std::string(257, 'a')));
}

TEST_CASE("lifetime claims are honoured with leeway")
{
    Settings options;
    options.token.leeway_seconds = 60;
    const json base{{"preferred_username", "alice"}};
    auto with = [&](const char* name, long long value) {
        json claims = base;
        claims[name] = value;
        return claims;
    };
    CHECK_FALSE(check_claims(with("exp", now + 10), "alice", options, now, VerifyMethod::Introspect));
    CHECK_FALSE(check_claims(with("exp", now - 59), "alice", options, now, VerifyMethod::Introspect));
    CHECK(check_claims(with("exp", now - 61), "alice", options, now, VerifyMethod::Introspect)->find("expired") !=
          std::string::npos);
    CHECK(check_claims(with("nbf", now + 61), "alice", options, now, VerifyMethod::Introspect)->find("nbf") !=
          std::string::npos);
    CHECK_FALSE(check_claims(with("nbf", now + 59), "alice", options, now, VerifyMethod::Introspect));
    json bad = base;
    bad["exp"] = "tomorrow";
    CHECK(*check_claims(bad, "alice", options, now, VerifyMethod::Introspect) == "claim exp is not a number");
}

TEST_CASE("issuer and audience when configured")
{
    Settings options;
    options.token.issuer = "https://idp.example.com";
    options.token.audience = "postgres";
    json claims{{"preferred_username", "alice"}, {"iss", "https://idp.example.com"}, {"aud", "postgres"}};
    CHECK_FALSE(check_claims(claims, "alice", options, now, VerifyMethod::Introspect));
    claims["aud"] = json::array({"other", "postgres"});
    CHECK_FALSE(check_claims(claims, "alice", options, now, VerifyMethod::Introspect));
    claims["aud"] = "other";
    CHECK(check_claims(claims, "alice", options, now, VerifyMethod::Introspect)->find("audience postgres") !=
          std::string::npos);
    claims["aud"] = "postgres";
    claims["iss"] = "https://evil.example.com";
    CHECK(check_claims(claims, "alice", options, now, VerifyMethod::Introspect)->find("issuer") != std::string::npos);
    claims.erase("iss");
    CHECK(check_claims(claims, "alice", options, now, VerifyMethod::Introspect)->find("(missing)") !=
          std::string::npos);
    // Userinfo answers describe the user, not the token: no iss or aud to check there.
    CHECK_FALSE(check_claims(json{{"preferred_username", "alice"}}, "alice", options, now, VerifyMethod::Userinfo));
}

TEST_CASE("scopes, groups and required claims")
{
    Settings options;
    options.users.scope = {"openid", "db"};
    json claims{{"preferred_username", "alice"}, {"scope", "openid profile db"}};
    CHECK_FALSE(check_claims(claims, "alice", options, now, VerifyMethod::Introspect));
    claims["scope"] = "openid profile";
    CHECK(*check_claims(claims, "alice", options, now, VerifyMethod::Introspect) == "scope db is missing");
    claims.erase("scope");
    claims["scp"] = json::array({"db", "openid"});
    CHECK_FALSE(check_claims(claims, "alice", options, now, VerifyMethod::Introspect));

    options.users.groups = {"dba", "ops"};
    CHECK(check_claims(claims, "alice", options, now, VerifyMethod::Introspect)->find("none of the groups") !=
          std::string::npos);
    claims["groups"] = json::array({"dev", "ops"});
    CHECK_FALSE(check_claims(claims, "alice", options, now, VerifyMethod::Introspect));
    claims["groups"] = "dba";
    CHECK_FALSE(check_claims(claims, "alice", options, now, VerifyMethod::Introspect));
    claims["groups"] = json::array({"DBA"});
    CHECK(check_claims(claims, "alice", options, now, VerifyMethod::Introspect));
    claims["groups"] = "dba";

    options.users.require_claims = {{"email_verified", "true"}, {"tenant", "acme"}};
    CHECK(*check_claims(claims, "alice", options, now, VerifyMethod::Introspect) ==
          "required claim email_verified is missing");
    claims["email_verified"] = true;
    CHECK(*check_claims(claims, "alice", options, now, VerifyMethod::Introspect) == "required claim tenant is missing");
    claims["tenant"] = "other";
    CHECK(*check_claims(claims, "alice", options, now, VerifyMethod::Introspect) ==
          "required claim tenant=acme does not hold");
    claims["tenant"] = json::array({"x", "acme"});
    CHECK_FALSE(check_claims(claims, "alice", options, now, VerifyMethod::Introspect));
    claims["email_verified"] = false;
    CHECK(check_claims(claims, "alice", options, now, VerifyMethod::Introspect));
}

TEST_CASE("every configured rule is judged, and check_claims reports the first that fails")
{
    Settings options;
    options.token.issuer = "https://idp.example.com";
    options.token.audience = "postgres";
    options.users.scope = {"db"};
    options.users.groups = {"dba"};
    options.users.require_claims = {{"email_verified", "true"}};
    const json claims{{"iss", "https://other.example.com"},
                      {"aud", "postgres"},
                      {"preferred_username", "bob"},
                      {"scope", "openid db"},
                      {"groups", {"dev"}},
                      {"exp", now + 60}};
    const auto checks = judge_claim_rules(claims, "alice", options.token, options.users, now, VerifyMethod::Jwt);
    std::vector<std::string> rules;
    std::vector<bool> holds;
    for (const auto& check : checks) {
        rules.push_back(check.rule);
        holds.push_back(!check.problem);
    }
    CHECK(rules == std::vector<std::string>{"lifetime", "issuer", "audience", "username", "scope", "groups",
                                            "require_claims email_verified"});
    CHECK(holds == std::vector<bool>{true, false, true, false, true, false, false});
    CHECK(*checks[1].problem == "issuer is 'https://other.example.com', expected 'https://idp.example.com'");
    CHECK(*check_claims(claims, "alice", options, now, VerifyMethod::Jwt) == *checks[1].problem);
    // Userinfo answers describe the user: no issuer or audience rule is judged for them.
    const auto userinfo = judge_claim_rules(claims, "bob", options.token, options.users, now, VerifyMethod::Userinfo);
    CHECK(userinfo.size() == 5);
    CHECK(userinfo[1].rule == "username");
    CHECK_FALSE(userinfo[1].problem);
}
