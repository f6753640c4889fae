#include "authenticator.hpp"
#include "fakes.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

constexpr long long fixed_now = 1'700'000'000;

struct Harness {
    Configuration configuration;
    Settings& options = configuration.settings;
    FakeHttpClient::Script script = [](const FakeHttpClient::Seen&) {
        return answer(200, R"({"preferred_username":"alice"})");
    };
    int requests = 0;
    std::vector<std::string> logs;

    Decision run(std::string_view user, std::string_view token)
    {
        const HttpClientFactory factory = [this](const HttpSettings&) {
            auto client = std::make_unique<FakeHttpClient>([this](const FakeHttpClient::Seen& seen) {
                ++requests;
                return script(seen);
            });
            return std::unique_ptr<HttpClient>(std::move(client));
        };
        const Logger logger([this](int, const std::string& line) { logs.push_back(line); }, true);
        return decide_login(
            user, SecureString(token), configuration, factory, [this] { return now; }, logger);
    }

    long long now = fixed_now;

    Harness()
    {
        options.endpoints.userinfo_url = "https://idp.example.com/userinfo";
        options.cache.ttl_seconds = 0; // the verdict cache has its own tests below
    }
};

} // namespace

TEST_CASE("a valid token for the right user is granted")
{
    Harness h;
    const auto decision = h.run("alice", "good-token");
    CHECK(decision.outcome == Outcome::Granted);
    CHECK(decision.method == "userinfo");
    CHECK(h.requests == 1);
}

TEST_CASE("refusals before any network call")
{
    Harness h;
    CHECK(h.run("root", "good-token").outcome == Outcome::Denied);
    CHECK(h.run("alice", "").outcome == Outcome::Denied);
    CHECK(h.run("alice", "bad token").outcome == Outcome::Denied);
    CHECK(h.run("alice", std::string(70000, 'a')).outcome == Outcome::Denied);
    const auto bad_user = h.run("al ice", "good-token");
    CHECK(bad_user.outcome == Outcome::Denied);
    CHECK_FALSE(bad_user.user_loggable);
    CHECK(h.requests == 0);
}

TEST_CASE("verifier statuses become outcomes, with cut tokens named")
{
    Harness h;
    h.script = [](const FakeHttpClient::Seen&) { return answer(401, ""); };
    const auto refused = h.run("alice", std::string(2047, 'a'));
    CHECK(refused.outcome == Outcome::Denied);
    CHECK(refused.reason.find("HTTP 401") != std::string::npos);
    CHECK(refused.reason.find("2047 bytes is a known client password limit") != std::string::npos);

    h.script = [](const FakeHttpClient::Seen&) { return answer(503, ""); };
    CHECK(h.run("alice", "tok").outcome == Outcome::Unavailable);

    h.script = [](const FakeHttpClient::Seen&) { return answer(200, R"({"preferred_username":"bob"})"); };
    const auto wrong_user = h.run("alice", "tok");
    CHECK(wrong_user.outcome == Outcome::Denied);
    CHECK(wrong_user.reason == "claim preferred_username is 'bob', PAM user is 'alice'");
}

TEST_CASE("introspection answers are checked against exp and audience")
{
    Harness h;
    h.options.verify = {VerifyMethod::Introspect};
    h.options.endpoints.introspection_url = "https://idp.example.com/introspect";
    h.options.endpoints.client_id = "pg";
    h.options.endpoints.client_secret = SecureString("s");
    h.options.token.audience = "postgres";
    h.script = [](const FakeHttpClient::Seen&) {
        return answer(200, R"({"active":true,"preferred_username":"alice","aud":"postgres","exp":1700000600})");
    };
    const auto granted = h.run("alice", "tok");
    CHECK(granted.outcome == Outcome::Granted);
    CHECK(granted.valid_until == 1700000600 + 60);

    h.script = [](const FakeHttpClient::Seen&) {
        return answer(200, R"({"active":true,"preferred_username":"alice","aud":"other"})");
    };
    CHECK(h.run("alice", "tok").outcome == Outcome::Denied);
}

TEST_CASE("the first method decides; a refusal never falls through")
{
    Harness h;
    h.options.verify = {VerifyMethod::Introspect, VerifyMethod::Userinfo};
    h.options.endpoints.introspection_url = "https://idp.example.com/introspect";
    h.options.endpoints.client_id = "pg";
    h.options.endpoints.client_secret = SecureString("s");
    h.script = [](const FakeHttpClient::Seen& seen) {
        if (seen.url.find("introspect") != std::string::npos) {
            return answer(200, R"({"active":false})");
        }
        return answer(200, R"({"preferred_username":"alice"})");
    };
    const auto decision = h.run("alice", "tok");
    CHECK(decision.outcome == Outcome::Denied);
    CHECK(decision.method == "introspect");
    CHECK(h.requests == 1);
}

TEST_CASE("positive userinfo verdicts are reused for cache_ttl seconds, and only those")
{
    const TempDir dir;
    Harness h;
    h.options.cache.dir = dir.path;
    h.options.cache.ttl_seconds = 60;
    CHECK(h.run("alice", "tok-1").outcome == Outcome::Granted);
    CHECK(h.run("alice", "tok-1").outcome == Outcome::Granted);
    CHECK(h.requests == 1);
    // The claim rules still run on a cached verdict.
    CHECK(h.run("bob", "tok-1").reason == "claim preferred_username is 'alice', PAM user is 'bob'");
    CHECK(h.requests == 1);
    // Another token, or another endpoint, is not answered from the cache.
    CHECK(h.run("alice", "tok-2").outcome == Outcome::Granted);
    CHECK(h.requests == 2);
    h.options.endpoints.userinfo_url = "https://other.example.com/userinfo";
    CHECK(h.run("alice", "tok-1").outcome == Outcome::Granted);
    CHECK(h.requests == 3);
    h.options.endpoints.userinfo_url = "https://idp.example.com/userinfo";

    h.now += 60;
    CHECK(h.run("alice", "tok-1").outcome == Outcome::Granted);
    CHECK(h.requests == 4);

    h.script = [](const FakeHttpClient::Seen&) { return answer(401, ""); };
    CHECK(h.run("alice", "tok-3").outcome == Outcome::Denied);
    CHECK(h.run("alice", "tok-3").outcome == Outcome::Denied);
    CHECK(h.requests == 6);

    h.options.cache.ttl_seconds = 0;
    h.script = [](const FakeHttpClient::Seen&) { return answer(200, R"({"preferred_username":"alice"})"); };
    CHECK(h.run("alice", "tok-1").outcome == Outcome::Granted);
    CHECK(h.requests == 7);
}

TEST_CASE("a cached introspection verdict is never used past the token's exp")
{
    const TempDir dir;
    Harness h;
    h.options.cache.dir = dir.path;
    h.options.cache.ttl_seconds = 600;
    h.options.verify = {VerifyMethod::Introspect};
    h.options.endpoints.introspection_url = "https://idp.example.com/introspect";
    h.options.endpoints.client_id = "pg";
    h.options.endpoints.client_secret = SecureString("s");
    h.script = [](const FakeHttpClient::Seen&) {
        return answer(200, R"({"active":true,"preferred_username":"alice","exp":1700000030})");
    };
    CHECK(h.run("alice", "tok").outcome == Outcome::Granted);
    CHECK(h.run("alice", "tok").outcome == Outcome::Granted);
    CHECK(h.requests == 1);
    h.now += 30;
    h.script = [](const FakeHttpClient::Seen&) { return answer(200, R"({"active":false})"); };
    CHECK(h.run("alice", "tok").outcome == Outcome::Denied);
    CHECK(h.requests == 2);
}
