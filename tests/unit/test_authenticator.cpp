#include "authenticator.hpp"
#include "configuration.hpp"
#include "fakes.hpp"
#include "jose_testkit.hpp"
#include "temp_dir.hpp"
#include "trace.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

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
    std::vector<std::string> warnings;

    Decision run(std::string_view user, std::string_view token)
    {
        const HttpClientFactory factory = [this](const HttpSettings&) {
            auto client = std::make_unique<FakeHttpClient>([this](const FakeHttpClient::Seen& seen) {
                ++requests;
                return script(seen);
            });
            return std::unique_ptr<HttpClient>(std::move(client));
        };
        Logger logger(
            [this](int priority, const std::string& line) {
                logs.push_back(line);
                if (priority == LOG_WARNING) {
                    warnings.push_back(line);
                }
            },
            true);
        logger.set_observer(trace);
        return decide_login(
            user, SecureString(token), configuration, factory, [this] { return now; }, logger);
    }

    long long now = fixed_now;
    Trace* trace = nullptr;

    void use_introspection()
    {
        options.verify = {VerifyMethod::Introspect};
        options.endpoints.introspection_url = "https://idp.example.com/introspect";
        options.endpoints.client_id = "pg";
        options.endpoints.client_secret = SecureString("s");
    }

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
    h.use_introspection();
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
    h.use_introspection();
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

namespace {

// A JWT-shaped token as a userinfo-only setup sees it: nothing here checks its signature.
std::string jwt_shaped(long long exp)
{
    return base64url(R"({"alg":"RS256"})") + "." + base64url(R"({"sub":"alice","exp":)" + std::to_string(exp) + "}") +
           ".c2lnbmF0dXJl";
}

} // namespace

TEST_CASE("review #3: a cached userinfo verdict never outlives the token's own exp")
{
    const TempDir dir;
    Harness h;
    h.options.cache.dir = dir.path;
    h.options.cache.ttl_seconds = 3600;
    const std::string token = jwt_shaped(fixed_now + 3);
    CHECK(h.run("alice", token).outcome == Outcome::Granted);
    CHECK(h.run("alice", token).outcome == Outcome::Granted);
    CHECK(h.requests == 1);
    h.now += 3;
    h.script = [](const FakeHttpClient::Seen&) { return answer(401, ""); };
    CHECK(h.run("alice", token).outcome == Outcome::Denied);
    CHECK(h.requests == 2);
    // A JWT-shaped token whose exp cannot be read is never cached at all.
    h.script = [](const FakeHttpClient::Seen&) { return answer(200, R"({"preferred_username":"alice"})"); };
    CHECK(h.run("alice", "eyJhbGciOiJub25lIn0.bm90IGpzb24.c2ln").outcome == Outcome::Granted);
    CHECK(h.run("alice", "eyJhbGciOiJub25lIn0.bm90IGpzb24.c2ln").outcome == Outcome::Granted);
    CHECK(h.requests == 4);
}

TEST_CASE("review #5: introspection answers for refresh and ID tokens are refused")
{
    Harness h;
    h.use_introspection();
    h.options.token.audience = "postgres";
    const auto answering = [&](const char* body) {
        h.script = [body](const FakeHttpClient::Seen&) { return answer(200, body); };
        return h.run("alice", "opaque");
    };
    CHECK(answering(R"({"active":true,"preferred_username":"alice","aud":"postgres","typ":"Refresh"})")
              .reason.find("refresh token") != std::string::npos);
    CHECK(answering(R"({"active":true,"preferred_username":"alice","aud":"postgres","token_type":"refresh_token"})")
              .reason.find("refresh token (token_type refresh_token)") != std::string::npos);
    CHECK(answering(R"({"active":true,"preferred_username":"alice","aud":"postgres","token_use":"id"})")
              .reason.find("ID token") != std::string::npos);
    CHECK(answering(R"({"active":true,"preferred_username":"alice","aud":"other-api"})").reason ==
          "audience postgres not in the token's aud");
    CHECK(answering(R"({"active":true,"preferred_username":"alice","aud":"postgres","token_type":"Bearer"})").outcome ==
          Outcome::Granted);
}

TEST_CASE("review #18: only verdicts that passed every rule are kept")
{
    const TempDir dir;
    Harness h;
    h.options.cache.dir = dir.path;
    h.options.cache.ttl_seconds = 60;
    // The provider vouches for bob's token, but the PAM user is alice: nothing is written.
    h.script = [](const FakeHttpClient::Seen&) { return answer(200, R"({"preferred_username":"bob"})"); };
    CHECK(h.run("alice", "bobs-token").outcome == Outcome::Denied);
    const std::string uid_dir = dir.path + "/" + std::to_string(geteuid());
    CHECK(std::system(("test -z \"$(ls -A " + uid_dir + ")\"").c_str()) == 0);
    CHECK(h.run("bob", "bobs-token").outcome == Outcome::Granted);
    CHECK(std::system(("test -n \"$(ls -A " + uid_dir + ")\"").c_str()) == 0);
}

TEST_CASE("review #6: a cache directory someone else created is reported at warning level")
{
    if (geteuid() != 0) {
        WARN("needs root to create a directory owned by another user");
        return;
    }
    const TempDir dir;
    const std::string squatted = dir.path + "/" + std::to_string(geteuid());
    REQUIRE(mkdir(squatted.c_str(), 0700) == 0);
    REQUIRE(chown(squatted.c_str(), 65534, 65534) == 0);
    Harness h;
    h.options.cache.dir = dir.path;
    h.options.cache.ttl_seconds = 60;
    CHECK(h.run("alice", "tok").outcome == Outcome::Granted);
    REQUIRE_FALSE(h.warnings.empty());
    CHECK(h.warnings.front().find("cache unavailable") != std::string::npos);
    CHECK(h.warnings.front().find("belongs to uid 65534") != std::string::npos);
}

TEST_CASE("with a trace, each step of the decision is recorded; the token never is")
{
    Harness h;
    Trace trace;
    h.trace = &trace;
    const auto decision = h.run("alice", "good-token");
    REQUIRE(decision.outcome == Outcome::Granted);
    std::vector<std::string> kinds;
    for (const auto& step : trace.steps()) {
        kinds.push_back(step["step"]);
    }
    CHECK(kinds == std::vector<std::string>{"before verifying", "method", "http", "verify", "rule", "rule"});
    CHECK(trace.steps()[2]["url"] == "https://idp.example.com/userinfo");
    CHECK(trace.steps()[2]["status"] == 200);
    CHECK(trace.steps()[3]["claims"]["preferred_username"] == "alice");
    CHECK(trace.steps()[5] == nlohmann::json{{"step", "rule"}, {"rule", "username"}, {"holds", true}});
    CHECK(trace.steps().dump().find("good-token") == std::string::npos);

    Trace refused;
    h.trace = &refused;
    CHECK(h.run("bob", "good-token").outcome == Outcome::Denied);
    CHECK(refused.steps().back()["holds"] == false);
    CHECK(refused.steps().back()["problem"] == "claim preferred_username is 'alice', PAM user is 'bob'");
}
