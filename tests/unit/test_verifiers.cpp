#include "fakes.hpp"
#include "introspection_verifier.hpp"
#include "settings.hpp"
#include "userinfo_verifier.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

Settings userinfo_options()
{
    Settings options;
    options.endpoints.userinfo_url = "https://idp.example.com/userinfo";
    return options;
}

Settings introspect_options()
{
    Settings options;
    options.verify = {VerifyMethod::Introspect};
    options.endpoints.introspection_url = "https://idp.example.com/introspect";
    options.endpoints.client_id = "pg";
    options.endpoints.client_secret = SecureString("s3cret");
    return options;
}

} // namespace

TEST_CASE("userinfo sends the token as a bearer token to the configured URL")
{
    const Settings options = userinfo_options();
    FakeHttpClient http([](const FakeHttpClient::Seen&) { return answer(200, R"({"preferred_username":"alice"})"); });
    UserinfoVerifier verifier(options.endpoints, http);
    const auto result = verifier.verify(OwnedToken("tok123"));
    CHECK(result.status == VerifyStatus::Valid);
    CHECK(result.claims["preferred_username"] == "alice");
    REQUIRE(http.requests.size() == 1);
    CHECK(http.requests[0].url == "https://idp.example.com/userinfo");
    CHECK(http.requests[0].bearer == "tok123");
    CHECK(http.requests[0].form.empty());
}

TEST_CASE("userinfo maps each HTTP result to the documented status")
{
    struct Case {
        const char* name;
        HttpResult (*make)();
        VerifyStatus expected;
    };
    const Case cases[] = {
        {"401", [] { return answer(401, ""); }, VerifyStatus::Invalid},
        {"403", [] { return answer(403, "{}"); }, VerifyStatus::Invalid},
        {"500", [] { return answer(500, "{}"); }, VerifyStatus::Unavailable},
        {"503", [] { return answer(503, ""); }, VerifyStatus::Unavailable},
        {"404", [] { return answer(404, ""); }, VerifyStatus::Unavailable},
        {"302", [] { return answer(302, ""); }, VerifyStatus::Unavailable},
        {"204", [] { return answer(204, ""); }, VerifyStatus::Unavailable},
        {"garbage", [] { return answer(200, "<html>"); }, VerifyStatus::Unavailable},
        {"array", [] { return answer(200, R"(["alice"])"); }, VerifyStatus::Unavailable},
        {"string", [] { return answer(200, R"("alice")"); }, VerifyStatus::Unavailable},
        {"deep", [] { return answer(200, std::string(100, '[') + std::string(100, ']')); }, VerifyStatus::Unavailable},
        {"transport", [] { return transport_failure("Couldn't connect to server"); }, VerifyStatus::Unavailable},
    };
    const Settings options = userinfo_options();
    for (const auto& c : cases) {
        SECTION(c.name)
        {
            FakeHttpClient http([&](const FakeHttpClient::Seen&) { return c.make(); });
            UserinfoVerifier verifier(options.endpoints, http);
            const auto result = verifier.verify(OwnedToken("Zq9SecretValue"));
            CHECK(result.status == c.expected);
            CHECK_FALSE(result.detail.empty());
            CHECK(result.detail.find("Zq9SecretValue") == std::string::npos);
        }
    }
}

TEST_CASE("introspection posts the token with client credentials and requires active=true")
{
    const Settings options = introspect_options();
    FakeHttpClient http([](const FakeHttpClient::Seen&) {
        return answer(200, R"({"active":true,"preferred_username":"alice","exp":1700000100})");
    });
    IntrospectionVerifier verifier(options.endpoints, http);
    const auto result = verifier.verify(OwnedToken("tok+/="));
    CHECK(result.status == VerifyStatus::Valid);
    CHECK(result.expires_at == 1700000100);
    REQUIRE(http.requests.size() == 1);
    CHECK(http.requests[0].bearer.empty());
    CHECK(http.requests[0].basic_user == "pg");
    CHECK(http.requests[0].basic_password == "s3cret");
    CHECK(http.requests[0].form ==
          std::vector<std::pair<std::string, std::string>>{{"token", "tok+/="}, {"token_type_hint", "access_token"}});
}

TEST_CASE("introspection statuses")
{
    const Settings options = introspect_options();
    const auto run = [&](HttpResult reply) {
        FakeHttpClient http([&](const FakeHttpClient::Seen&) { return std::move(reply); });
        IntrospectionVerifier verifier(options.endpoints, http);
        return verifier.verify(OwnedToken("tok"));
    };
    CHECK(run(answer(200, R"({"active":false})")).status == VerifyStatus::Invalid);
    CHECK(run(answer(200, R"({"active":"true"})")).status == VerifyStatus::Unavailable);
    CHECK(run(answer(200, R"({})")).status == VerifyStatus::Unavailable);
    const auto client_refused = run(answer(401, ""));
    CHECK(client_refused.status == VerifyStatus::Unavailable);
    CHECK(client_refused.detail.find("client_id pg") != std::string::npos);
    CHECK(client_refused.detail.find("s3cret") == std::string::npos);
    CHECK(run(answer(500, "")).status == VerifyStatus::Unavailable);
    CHECK(run(transport_failure("Timeout was reached")).status == VerifyStatus::Unavailable);
}
