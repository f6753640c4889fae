// Token shapes of the major identity providers, as their public documentation describes them (header,
// iss, aud, user and group claims, how ID tokens are marked). For each provider: the recipe's settings
// accept a valid access token and refuse one for another audience, an expired one, one signed by a
// rotated-out key and, where the provider marks them, its ID tokens.
#include "authenticator.hpp"
#include "configuration.hpp"
#include "fakes.hpp"
#include "jose_testkit.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <functional>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;
using nlohmann::json;

namespace {

constexpr long long now = 1'700'000'000;
const std::string keys_url = "https://keys.example.com/jwks";

struct Provider {
    const char* name;
    std::string iss;
    json audience;                         // the aud claim of an access token for the database
    std::string pam_user;                  // who logs in
    json claims;                           // the provider's other claims of such a token
    json header_extra;                     // beyond alg and kid
    json id_token_marks;                   // claims that make the same token an ID token; null when unmarked
    std::function<void(Settings&)> recipe; // the settings docs/identity-providers.md gives
    const char* username_map = nullptr;    // its username_map file, if the recipe has one
};

std::vector<Provider> providers()
{
    const std::string tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    return {
        {"Keycloak", "https://kc.example.com/realms/acme", json{"postgres", "account"}, "alice",
         json{{"typ", "Bearer"},
              {"azp", "psql"},
              {"preferred_username", "alice"},
              {"realm_access", {{"roles", {"dba", "offline_access"}}}},
              {"scope", "openid profile db"}},
         json{{"typ", "JWT"}}, json{{"typ", "ID"}},
         [](Settings& s) {
             s.token.audience = "postgres";
             s.users.groups_claim = "/realm_access/roles";
             s.users.groups = {"dba"};
         }},
        {"Entra v2", "https://login.microsoftonline.com/" + tid + "/v2.0", "6f1d2c3b-0000-4000-8000-000000000001",
         "alice@example.com",
         json{{"tid", tid},
              {"oid", "0b1f"},
              {"preferred_username", "alice@example.com"},
              {"scp", "access_as_user"},
              {"roles", {"db.login"}},
              {"ver", "2.0"}},
         json{{"typ", "JWT"}, {"x5t", "nOo3ZDrODXEK1jKWhXslHR_KXEg"}}, json{{"nonce", "0f3a"}},
         [](Settings& s) {
             s.token.audience = "6f1d2c3b-0000-4000-8000-000000000001";
             s.users.groups_claim = "roles";
             s.users.groups = {"db.login"};
         }},
        {"Entra multi-tenant", "https://login.microsoftonline.com/" + tid + "/v2.0", "api://postgres",
         "alice@example.com", json{{"tid", tid}, {"preferred_username", "alice@example.com"}, {"ver", "2.0"}},
         json{{"typ", "JWT"}}, json{{"nonce", "0f3a"}},
         [tid](Settings& s) {
             s.token.issuer = "https://login.microsoftonline.com/{tenantid}/v2.0";
             s.token.tenants = {tid};
             s.token.audience = "api://postgres";
         }},
        {"Entra v1", "https://sts.windows.net/" + tid + "/", "api://postgres", "alice@example.com",
         json{{"tid", tid}, {"upn", "alice@example.com"}, {"unique_name", "alice@example.com"}, {"ver", "1.0"}},
         json{{"typ", "JWT"}}, json{{"nonce", "0f3a"}},
         [](Settings& s) {
             s.token.audience = "api://postgres";
             s.users.username_claim = "upn";
         }},
        {"Okta", "https://acme.okta.com/oauth2/default", "api://default", "alice@example.com",
         json{{"cid", "0oa1"}, {"uid", "00u1"}, {"sub", "alice@example.com"}, {"scp", {"openid", "db"}}},
         json::object(), json{{"nonce", "n-0S6"}},
         [](Settings& s) {
             s.token.audience = "api://default";
             s.users.username_claim = "sub";
             s.users.scope = {"db"};
         }},
        {"Auth0", "https://acme.eu.auth0.com/", json{"https://db.example.com", "https://acme.eu.auth0.com/userinfo"},
         "alice",
         json{{"azp", "xyz"},
              {"scope", "openid db"},
              {"https://example.com/username", "alice"},
              {"https://example.com/roles", {"dba"}}},
         json{{"typ", "at+jwt"}}, nullptr,
         [](Settings& s) {
             s.token.audience = "https://db.example.com";
             s.users.username_claim = "https://example.com/username";
             s.users.require_claims = {{"https://example.com/roles", "dba"}};
         }},
        {"Cognito", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCd", nullptr, "alice",
         json{{"client_id", "5abc"}, {"token_use", "access"}, {"username", "alice"}, {"cognito:groups", {"dba"}}},
         json::object(), json{{"token_use", "id"}},
         [](Settings& s) {
             s.token.allow_any_audience = true; // Cognito access tokens carry no aud
             s.users.username_claim = "username";
             s.users.require_claims = {{"client_id", "5abc"}, {"token_use", "access"}};
             s.users.groups_claim = "cognito:groups";
             s.users.groups = {"dba"};
         }},
        {"ZITADEL", "https://acme.zitadel.cloud", json{"2201", "2202@acme"}, "alice",
         json{{"preferred_username", "alice"},
              {"urn:zitadel:iam:org:project:roles", {{"dba", {{"2199", "acme.zitadel.cloud"}}}}}},
         json{{"typ", "JWT"}}, json{{"nonce", "n"}},
         [](Settings& s) {
             s.token.audience = "2201";
             s.users.groups_claim = "urn:zitadel:iam:org:project:roles";
             s.users.groups = {"dba"};
         }},
        {"authentik", "https://auth.example.com/application/o/postgres/", "pg-client", "alice",
         json{{"preferred_username", "alice"}, {"groups", {"dba"}}}, json{{"typ", "JWT"}}, json{{"nonce", "n"}},
         [](Settings& s) {
             s.token.audience = "pg-client";
             s.users.groups = {"dba"};
         }},
        {"GitHub Actions", "https://token.actions.githubusercontent.com", "https://github.com/acme", "ci_deploy",
         json{{"sub", "repo:acme/app:environment:prod"},
              {"repository", "acme/app"},
              {"environment", "prod"},
              {"ref", "refs/heads/main"}},
         json{{"typ", "JWT"}, {"x5t", "eBZ_cn3sXYAd0ch4THBKHIgOwOE"}}, nullptr,
         [](Settings& s) {
             s.token.audience = "https://github.com/acme";
             s.users.username_claim = "sub";
         },
         "repo:acme/app:environment:prod ci_deploy\n"},
        {"GitLab CI", "https://gitlab.com", "https://db.example.com", "ci_deploy",
         json{{"sub", "project_path:acme/app:ref_type:branch:ref:main"},
              {"project_path", "acme/app"},
              {"ref", "main"},
              {"ref_protected", "true"}},
         json{{"typ", "JWT"}}, nullptr,
         [](Settings& s) {
             s.token.audience = "https://db.example.com";
             s.users.username_claim = "sub";
             s.users.require_claims = {{"ref_protected", "true"}};
         },
         "/^project_path:acme/app:ref_type:branch:ref:main$ ci_deploy\n"},
        {"Kubernetes", "https://kubernetes.default.svc.cluster.local", json{"postgres"}, "deployer",
         json{{"sub", "system:serviceaccount:ci:deployer"},
              {"kubernetes.io", {{"namespace", "ci"}, {"serviceaccount", {{"name", "deployer"}, {"uid", "9f"}}}}}},
         json::object(), nullptr,
         [](Settings& s) {
             s.token.audience = "postgres";
             s.users.username_claim = "/kubernetes.io/serviceaccount/name";
             s.users.require_claims = {{"/kubernetes.io/namespace", "ci"}};
         }},
    };
}

} // namespace

TEST_CASE("provider token shapes: valid, wrong audience, expired, rotated-out key, ID token")
{
    // GitHub and GitLab name no user: their recipes map the workload (sub) to a database role.
    const TestKey current = make_key("RS256", "current");
    const TestKey rotated_out = make_key("RS256", "retired");
    // As providers publish keys: "use", no "alg" (Entra, Google), certificate fields (x5t, x5c) and
    // Entra's per-key "issuer", none of which the module relies on.
    json published_key = current.jwk;
    published_key["x5t"] = "nOo3ZDrODXEK1jKWhXslHR_KXEg";
    published_key["x5c"] = json::array({"MIIDBTCCAe2gAwIBAgIQ"});
    published_key["issuer"] = "https://login.microsoftonline.com/{tenantid}/v2.0";
    const json published{{"keys", json::array({published_key})}};
    for (const auto& provider : providers()) {
        SECTION(provider.name)
        {
            const TempDir cache;
            Configuration configuration;
            Settings& settings = configuration.settings;
            settings.verify = {VerifyMethod::Jwt};
            settings.token.issuer = provider.iss;
            settings.jwt.jwks_url = keys_url;
            settings.cache.dir = cache.path;
            provider.recipe(settings);
            if (provider.username_map != nullptr) {
                configuration.username_map = std::get<UsernameMap>(UsernameMap::parse(provider.username_map, false));
            }
            const HttpClientFactory factory = [&](const HttpSettings&) -> std::unique_ptr<HttpClient> {
                return std::make_unique<FakeHttpClient>([&](const FakeHttpClient::Seen& seen) {
                    return seen.url == keys_url ? answer(200, published.dump()) : answer(404, "");
                });
            };
            const Logger quiet([](int, const std::string&) {});
            const auto token_with = [&](const std::function<void(json&)>& change, const TestKey& key) {
                json claims = provider.claims;
                claims["iss"] = provider.iss;
                if (!provider.audience.is_null()) {
                    claims["aud"] = provider.audience;
                }
                claims["exp"] = now + 3600;
                claims["iat"] = now;
                change(claims);
                json header = provider.header_extra;
                header["alg"] = "RS256";
                header["kid"] = key.kid;
                return make_jwt(key, claims, header);
            };
            const auto login = [&](const std::string& token) {
                return decide_login(
                    provider.pam_user, SecureString(token), configuration, factory, [] { return now; }, quiet);
            };

            const auto valid = login(token_with([](json&) {}, current));
            CHECK(valid.reason == "token accepted");
            CHECK(valid.outcome == Outcome::Granted);
            if (!provider.audience.is_null()) {
                CHECK(login(token_with([](json& c) { c["aud"] = "another-api"; }, current)).reason.find("audience") ==
                      0);
            }
            CHECK(login(token_with([](json& c) { c["exp"] = now - 3600; }, current)).reason.find("token expired") == 0);
            CHECK(login(token_with([](json&) {}, rotated_out)).reason ==
                  "no key with kid retired in the issuer's JWKS");
            if (!provider.id_token_marks.is_null()) {
                const auto id_token = login(token_with([&](json& c) { c.update(provider.id_token_marks); }, current));
                CHECK(id_token.outcome == Outcome::Denied);
                CHECK(id_token.reason.find("ID token") != std::string::npos);
            }
        }
    }
}
