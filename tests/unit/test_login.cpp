#include "configuration.hpp"
#include "fakes.hpp"
#include "login.hpp"

#include <catch2/catch.hpp>

#include <security/_pam_types.h>
#include <syslog.h>

#include <utility>
#include <vector>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

// One login through login() with a scripted provider; records every line and the log target asked for.
struct LoginHarness {
    std::vector<std::pair<int, std::string>> lines;
    std::vector<LogTarget> targets;
    std::string provider_answer = R"({"preferred_username":"alice"})";
    long provider_status = 200;

    LoginDependencies dependencies()
    {
        LoginDependencies result;
        result.make_http = [this](const HttpSettings&) {
            return std::unique_ptr<HttpClient>(std::make_unique<FakeHttpClient>(
                [this](const auto&) { return answer(provider_status, provider_answer); }));
        };
        result.make_logger = [this](const LogSettings& log) {
            targets.push_back(log.target);
            return Logger([this](int priority, const std::string& line) { lines.emplace_back(priority, line); });
        };
        return result;
    }

    static LoginRequest request(std::vector<std::string_view> args, const std::string& user, const std::string& token)
    {
        LoginRequest request;
        request.args = std::move(args);
        request.rhost = "10.0.0.7";
        request.collect = [user, token](const Configuration&) {
            Collected collected;
            collected.user = user;
            collected.token.emplace(token);
            return collected;
        };
        return request;
    }
};

} // namespace

TEST_CASE("login: a granted token is one line at LOG_INFO and a verdict for the account stage")
{
    LoginHarness h;
    const auto result =
        login(LoginHarness::request({"userinfo_url=https://idp.example.com/u", "cache_ttl=0"}, "alice", "good-token"),
              h.dependencies());
    CHECK(result.pam_code == PAM_SUCCESS);
    CHECK(result.priority == LOG_INFO);
    CHECK(result.verdict.granted);
    REQUIRE(h.lines.size() == 1);
    CHECK(h.lines[0] == std::make_pair(LOG_INFO, result.line));
    CHECK(result.line.rfind("result=granted reason=\"token accepted\" user=alice method=userinfo token=sha256:", 0) ==
          0);
    CHECK(result.line.find("rhost=10.0.0.7 ms=") != std::string::npos);
    CHECK(result.line.find("good-token") == std::string::npos);
}

TEST_CASE("login: a refusal keeps no verdict; a token that could not be collected is its own line")
{
    LoginHarness h;
    h.provider_answer = R"({"preferred_username":"bob"})";
    const auto refused =
        login(LoginHarness::request({"userinfo_url=https://idp.example.com/u", "cache_ttl=0"}, "alice", "good-token"),
              h.dependencies());
    CHECK(refused.pam_code == PAM_AUTH_ERR);
    CHECK(refused.priority == LOG_NOTICE);
    CHECK_FALSE(refused.verdict.granted);

    LoginRequest again = LoginHarness::request({"userinfo_url=https://idp.example.com/u"}, "", "");
    again.collect = [](const Configuration&) {
        Collected collected;
        collected.refusal = Outcome::ConversationAgain;
        collected.why = "conversation asked to be called again (token)";
        return collected;
    };
    const auto incomplete = login(again, h.dependencies());
    CHECK(incomplete.pam_code == PAM_INCOMPLETE);
    CHECK(incomplete.line == "result=incomplete reason=\"conversation asked to be called again (token)\" user=- "
                             "method=none token=- rhost=10.0.0.7 ms=" +
                                 std::to_string(incomplete.record.elapsed_ms));
}

TEST_CASE("login: configuration errors are logged at ERR (arguments) or ALERT (conf file), where log= says")
{
    LoginHarness h;
    bool collected = false;
    LoginRequest request = LoginHarness::request({"log=stderr", "group=dba"}, "alice", "t");
    request.collect = [&collected](const Configuration&) {
        collected = true;
        return Collected{};
    };
    const auto from_arguments = login(request, h.dependencies());
    CHECK_FALSE(collected);
    CHECK(from_arguments.pam_code == PAM_SERVICE_ERR);
    CHECK(from_arguments.priority == LOG_ERR);
    CHECK(from_arguments.line ==
          "result=config_error reason=\"configuration error: unknown option 'group'\" user=- method=none token=- "
          "rhost=- ms=0");
    REQUIRE(from_arguments.configuration_error);
    CHECK(from_arguments.configuration_error->message == "unknown option 'group'");
    CHECK(h.targets.back() == LogTarget::Stderr);

    // A caller's own error (pam_oauth2d's allow_hosts) gives the same line as one from loading.
    const std::variant<Configuration, ConfigError> file_error = ConfigError{"conf file broken", true};
    const auto from_file = login(file_error, LoginHarness::request({"log=syslog"}, "alice", "t"), h.dependencies());
    CHECK(from_file.priority == LOG_ALERT);
    CHECK(h.lines.back() == std::make_pair(LOG_ALERT, from_file.line));
    CHECK(h.targets.back() == LogTarget::Syslog);
}

TEST_CASE("login: the log target of a broken configuration is the option table's parse of log=")
{
    CHECK(log_settings_of_arguments({}).target == LogTarget::Syslog);
    CHECK(log_settings_of_arguments({"log=stderr"}).target == LogTarget::Stderr);
    CHECK(log_settings_of_arguments({"log=stderr", "log=syslog"}).target == LogTarget::Syslog);
    CHECK(log_settings_of_arguments({"log=stderr", "log=bogus"}).target == LogTarget::Stderr);
    CHECK(log_settings_of_arguments({"xlog=stderr", "log", "prompt=log=stderr"}).target == LogTarget::Syslog);
}

TEST_CASE("login: the verified claims' identity comes with the result, granted or refused by a rule")
{
    LoginHarness h;
    h.provider_answer = R"({"preferred_username":"alice","sub":"u-1","sid":"s-9","jti":"j-1","azp":"psql"})";
    const auto granted =
        login(LoginHarness::request({"userinfo_url=https://idp.example.com/u", "cache_ttl=0"}, "alice", "good-token"),
              h.dependencies());
    INFO(granted.line);
    REQUIRE(granted.identity);
    CHECK(granted.identity->issuer.empty()); // userinfo answers carry no iss, and no issuer is configured
    CHECK(granted.identity->subject == "u-1");
    CHECK(granted.identity->session_id == "s-9");
    CHECK(granted.identity->client_id == "psql");
    CHECK(granted.identity->jti_fingerprint == token_fingerprint("j-1"));

    h.provider_answer = R"({"preferred_username":"bob","sub":"u-2"})";
    const auto refused =
        login(LoginHarness::request({"userinfo_url=https://idp.example.com/u", "cache_ttl=0"}, "alice", "good-token"),
              h.dependencies());
    REQUIRE(refused.identity);
    CHECK(refused.identity->subject == "u-2");

    h.provider_status = 401;
    h.provider_answer = R"({"error":"invalid_token"})";
    const auto unverified =
        login(LoginHarness::request({"userinfo_url=https://idp.example.com/u", "cache_ttl=0"}, "alice", "bad"),
              h.dependencies());
    CHECK_FALSE(unverified.identity);
}
