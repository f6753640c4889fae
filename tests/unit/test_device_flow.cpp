#include "device_flow.hpp"
#include "fakes.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;
using namespace pam_oauth2::token;
using namespace pam_oauth2::testing;

namespace {

const ProviderEndpoints endpoints{"https://idp.example.com",
                                  "https://idp.example.com/token",
                                  "https://idp.example.com/device",
                                  "https://idp.example.com/revoke",
                                  "",
                                  false};
const ClientRequest client{"pg-cli", nullptr, "openid offline_access", "", "urn:example:postgres", ""};

constexpr const char* device_answer =
    R"({"device_code":"dc-1","user_code":"ABCD-EFGH","verification_uri":"https://idp.example.com/device",
        "verification_uri_complete":"https://idp.example.com/device?user_code=ABCD-EFGH","expires_in":60,
        "interval":2})";

// A device flow on a virtual clock: sleeping advances it, nothing waits.
struct Flow {
    long long clock = 1000;
    std::vector<long long> polled_at;
    std::vector<std::string> token_answers; // one per poll, the last repeated
    DeviceSignIn shown;
    std::string device_authorization = device_answer;
    long device_status = 200;
    ClientRequest request = client;

    GrantResult run(const ProviderEndpoints& where = endpoints)
    {
        FakeHttpClient http([this](const FakeHttpClient::Seen& seen) {
            if (seen.url == endpoints.device_authorization) {
                return answer(device_status, device_authorization);
            }
            polled_at.push_back(clock);
            const auto& body = token_answers[std::min(polled_at.size(), token_answers.size()) - 1];
            return answer(body.find("access_token") != std::string::npos ? 200 : 400, body);
        });
        DeviceFlowHooks hooks;
        hooks.show = [this](const DeviceSignIn& sign_in) { shown = sign_in; };
        hooks.wait = [](long long, long long) {};
        hooks.sleep = [this](long long seconds) { clock += seconds; };
        hooks.now = [this] { return clock; };
        auto result = device_sign_in(http, where, request, hooks);
        requests = http.requests;
        return result;
    }
    std::vector<FakeHttpClient::Seen> requests;
};

const std::string pending = R"({"error":"authorization_pending"})";
const std::string issued = R"({"access_token":"at-1","refresh_token":"rt-1","expires_in":600,"token_type":"Bearer"})";

} // namespace

TEST_CASE("device flow: the code is shown, polls keep the interval, tokens end it")
{
    Flow flow;
    flow.token_answers = {pending, pending, issued};
    const auto result = flow.run();
    REQUIRE(result.status == GrantStatus::Issued);
    CHECK(result.access_token.view() == "at-1");
    CHECK(result.refresh_token.view() == "rt-1");
    CHECK(*result.expires_in == 600);
    CHECK(flow.shown.user_code == "ABCD-EFGH");
    CHECK(flow.shown.verification_uri_complete == "https://idp.example.com/device?user_code=ABCD-EFGH");
    CHECK(flow.polled_at == std::vector<long long>{1002, 1004, 1006});
    // The device request asks for the scope and resource; each poll names the grant, code and resource.
    const auto& start = flow.requests.front().form;
    CHECK(start == std::vector<std::pair<std::string, std::string>>{{"client_id", "pg-cli"},
                                                                    {"scope", "openid offline_access"},
                                                                    {"resource", "urn:example:postgres"}});
    const auto& poll = flow.requests.back().form;
    CHECK(poll == std::vector<std::pair<std::string, std::string>>{
                      {"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                      {"device_code", "dc-1"},
                      {"client_id", "pg-cli"},
                      {"resource", "urn:example:postgres"}});
}

TEST_CASE("device flow: slow_down adds 5 s to the interval for every later poll")
{
    Flow flow;
    flow.token_answers = {R"({"error":"slow_down"})", pending, R"({"error":"slow_down"})", pending, issued};
    REQUIRE(flow.run().status == GrantStatus::Issued);
    CHECK(flow.polled_at == std::vector<long long>{1002, 1009, 1016, 1028, 1040});
}

TEST_CASE("device flow: denied, expired, and a code that runs out on our clock")
{
    Flow denied;
    denied.token_answers = {pending, R"({"error":"access_denied","error_description":"no"})"};
    const auto no = denied.run();
    CHECK(no.status == GrantStatus::Denied);
    CHECK(no.problem == "access_denied: no");

    Flow expired;
    expired.token_answers = {R"({"error":"expired_token"})"};
    CHECK(expired.run().status == GrantStatus::Expired);

    Flow forever; // the provider keeps saying pending: the flow stops when expires_in (60 s) is up
    forever.token_answers = {pending};
    const auto late = forever.run();
    CHECK(late.status == GrantStatus::Expired);
    CHECK(forever.polled_at.size() == 29);
    CHECK(late.problem == "the code ABCD-EFGH expired before the sign-in was approved");
}

TEST_CASE("device flow: missing endpoint, refused client, broken answers")
{
    Flow flow;
    flow.token_answers = {issued};
    ProviderEndpoints without = endpoints;
    without.device_authorization.clear();
    const auto none = flow.run(without);
    CHECK(none.status == GrantStatus::BadClient);
    CHECK(none.problem.find("offers no device authorization endpoint") != std::string::npos);
    CHECK(flow.requests.empty());

    Flow refused;
    refused.device_status = 400;
    refused.device_authorization = R"({"error":"unauthorized_client","error_description":"no device flow"})";
    const auto not_allowed = refused.run();
    CHECK(not_allowed.status == GrantStatus::BadClient);
    CHECK(not_allowed.problem == "device authorization endpoint https://idp.example.com/device refused the request: "
                                 "unauthorized_client: no device flow");

    Flow broken;
    broken.device_authorization = R"({"user_code":"ABCD-EFGH"})";
    const auto incomplete = broken.run();
    CHECK(incomplete.status == GrantStatus::Unavailable);
    CHECK(incomplete.problem.find("answered without device_code") != std::string::npos);

    Flow bad_client;
    bad_client.token_answers = {R"({"error":"invalid_client"})"};
    CHECK(bad_client.run().status == GrantStatus::BadClient);

    Flow server_error;
    server_error.token_answers = {R"({"error":"server_error"})"};
    CHECK(server_error.run().status == GrantStatus::Unavailable);
}

TEST_CASE("refresh grant: rotated, revoked and a public client's fields")
{
    FakeHttpClient http([](const FakeHttpClient::Seen& seen) {
        const bool good = seen.form[1].second == "rt-good";
        return good ? answer(200, R"({"access_token":"at-2","refresh_token":"rt-rotated","expires_in":300})")
                    : answer(400, R"({"error":"invalid_grant","error_description":"grant request is invalid"})");
    });
    const SecureString good("rt-good");
    const auto renewed = refresh(http, endpoints, client, good);
    CHECK(renewed.status == GrantStatus::Issued);
    CHECK(renewed.refresh_token.view() == "rt-rotated");
    CHECK(http.requests[0].form ==
          std::vector<std::pair<std::string, std::string>>{{"grant_type", "refresh_token"},
                                                           {"refresh_token", "rt-good"},
                                                           {"client_id", "pg-cli"},
                                                           {"resource", "urn:example:postgres"}});
    const SecureString revoked("rt-revoked");
    const auto gone = refresh(http, endpoints, client, revoked);
    CHECK(gone.status == GrantStatus::InvalidGrant);
    CHECK(gone.problem == "invalid_grant: grant request is invalid");
}

TEST_CASE("discovery: the issuer must match and endpoints must pass the URL policy")
{
    std::string document;
    FakeHttpClient http([&](const FakeHttpClient::Seen&) { return answer(200, document); });
    document = R"({"issuer":"https://idp.example.com","token_endpoint":"https://idp.example.com/token",
                   "device_authorization_endpoint":"https://idp.example.com/device"})";
    auto found = discover(http, "https://idp.example.com", false);
    REQUIRE(std::holds_alternative<ProviderEndpoints>(found));
    CHECK(std::get<ProviderEndpoints>(found).device_authorization == "https://idp.example.com/device");
    CHECK(http.requests[0].url == "https://idp.example.com/.well-known/openid-configuration");
    document = R"({"issuer":"https://evil.example.com","token_endpoint":"https://idp.example.com/token"})";
    CHECK(std::get<std::string>(discover(http, "https://idp.example.com", false)).find("does not name issuer") !=
          std::string::npos);
    document = R"({"issuer":"https://idp.example.com","token_endpoint":"http://idp.example.com/token"})";
    CHECK(std::holds_alternative<std::string>(discover(http, "https://idp.example.com", false)));
}

TEST_CASE("device flow: the account goes as login_hint on the device request only")
{
    Flow flow;
    flow.request.login_hint = "alice@example.com";
    flow.token_answers = {issued};
    REQUIRE(flow.run().status == GrantStatus::Issued);
    CHECK(flow.requests.front().form ==
          std::vector<std::pair<std::string, std::string>>{{"client_id", "pg-cli"},
                                                           {"scope", "openid offline_access"},
                                                           {"resource", "urn:example:postgres"},
                                                           {"login_hint", "alice@example.com"}});
    for (const auto& [name, value] : flow.requests.back().form) {
        CHECK(name != "login_hint");
    }
}
