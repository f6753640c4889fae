#include "claim_reference.hpp"
#include "claims.hpp"
#include "settings.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;
using nlohmann::json;

namespace {

// Shapes from the providers' documentation.
const json kubernetes{{"iss", "https://kubernetes.default.svc"},
                      {"kubernetes.io", {{"namespace", "ci"}, {"serviceaccount", {{"name", "deployer"}}}}}};
const json keycloak{{"preferred_username", "alice"}, {"realm_access", {{"roles", {"dba", "offline_access"}}}}};
const json zitadel{
    {"preferred_username", "alice"},
    {"urn:zitadel:iam:org:project:roles", {{"dba", {{"123", "acme.example"}}}, {"viewer", json::object()}}}};
const json auth0{{"https://example.com/roles", {"dba"}}, {"cognito:groups", {"ops"}}, {"a/b", "slash"}, {"m~n", 1}};

} // namespace

TEST_CASE("a plain name is one top-level claim, taken literally")
{
    CHECK(*find_claim(auth0, "https://example.com/roles") == json{"dba"});
    CHECK(*find_claim(auth0, "cognito:groups") == json{"ops"});
    CHECK(*find_claim(auth0, "a/b") == "slash");
    CHECK(find_claim(keycloak, "roles") == nullptr);
    CHECK(find_claim(kubernetes, "name") == nullptr);
}

TEST_CASE("a reference starting with / is an RFC 6901 JSON Pointer")
{
    CHECK(*find_claim(kubernetes, "/kubernetes.io/serviceaccount/name") == "deployer");
    CHECK(*find_claim(keycloak, "/realm_access/roles") == json{"dba", "offline_access"});
    CHECK(*find_claim(keycloak, "/realm_access/roles/1") == "offline_access");
    CHECK(*find_claim(auth0, "/a~1b") == "slash");
    CHECK(*find_claim(auth0, "/m~0n") == 1);
    CHECK(find_claim(keycloak, "/realm_access/roles/2") == nullptr);
    CHECK(find_claim(keycloak, "/realm_access/roles/01") == nullptr);
    CHECK(find_claim(keycloak, "/realm_access/roles/-") == nullptr);
    CHECK(find_claim(keycloak, "/preferred_username/x") == nullptr);
    CHECK(find_claim(keycloak, "/missing") == nullptr);
    CHECK(find_claim(keycloak, "/") == nullptr);
    CHECK(check_claim_reference("/a~2b")->find("JSON Pointer") != std::string::npos);
    CHECK(check_claim_reference("/a~")->find("JSON Pointer") != std::string::npos);
    CHECK(check_claim_reference("")->find("empty") != std::string::npos);
    CHECK_FALSE(check_claim_reference("/kubernetes.io/serviceaccount/name"));
    CHECK_FALSE(check_claim_reference("cognito:groups"));
}

TEST_CASE("nested user, group and required claims, and groups as object keys")
{
    constexpr long long now = 1'700'000'000;
    TokenRules token;
    UserRules users;
    users.username_claim = "/kubernetes.io/serviceaccount/name";
    CHECK_FALSE(check_claims(kubernetes, "deployer", token, users, now, VerifyMethod::Jwt));
    CHECK(*check_claims(kubernetes, "other", token, users, now, VerifyMethod::Jwt) ==
          "claim /kubernetes.io/serviceaccount/name is 'deployer', PAM user is 'other'");

    users = UserRules{};
    users.groups_claim = "/realm_access/roles";
    users.groups = {"dba"};
    CHECK_FALSE(check_claims(keycloak, "alice", token, users, now, VerifyMethod::Jwt));

    users.groups_claim = "urn:zitadel:iam:org:project:roles";
    CHECK_FALSE(check_claims(zitadel, "alice", token, users, now, VerifyMethod::Jwt));
    users.groups = {"admin"};
    CHECK(check_claims(zitadel, "alice", token, users, now, VerifyMethod::Jwt));

    users = UserRules{};
    users.username_claim = "sub";
    users.require_claims = {{"https://example.com/roles", "dba"}, {"/kubernetes.io/namespace", "ci"}};
    const json both{{"sub", "alice"}, {"https://example.com/roles", {"dba"}}, {"kubernetes.io", {{"namespace", "ci"}}}};
    CHECK_FALSE(check_claims(both, "alice", token, users, now, VerifyMethod::Jwt));
}
