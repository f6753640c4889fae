#include "logger.hpp"

#include <catch2/catch.hpp>

#include <syslog.h>

#include <vector>

using namespace pam_oauth2;

TEST_CASE("token fingerprints are sha256 prefixes")
{
    // SHA-256("abc") = ba7816bf...
    CHECK(token_fingerprint("abc") == "sha256:ba7816bf");
    CHECK(token_fingerprint("abd") != token_fingerprint("abc"));
}

TEST_CASE("decision lines follow the documented format")
{
    DecisionRecord record;
    record.outcome = Outcome::Denied;
    record.reason = "claim preferred_username is 'bob', PAM user is 'alice'";
    record.user = "alice";
    record.method = "userinfo";
    record.token_fingerprint = "sha256:3f9a1c0e";
    record.rhost = "10.0.0.7";
    record.elapsed_ms = 14;
    CHECK(format_decision(record) ==
          "result=denied reason=\"claim preferred_username is 'bob', PAM user is 'alice'\" user=alice "
          "method=userinfo token=sha256:3f9a1c0e rhost=10.0.0.7 ms=14");
}

TEST_CASE("hostile values cannot forge fields or lines")
{
    DecisionRecord record;
    record.outcome = Outcome::Granted;
    record.reason = "a \"quoted\"\nresult=granted";
    record.user = "eve result=granted";
    const auto line = format_decision(record);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find("reason=\"a \\\"quoted\\\"\\x0aresult=granted\"") != std::string::npos);
    CHECK(line.find("user=\"eve result=granted\"") != std::string::npos);
    CHECK(line.find("method=none token=- rhost=-") != std::string::npos);
}

TEST_CASE("debug lines only with debug on")
{
    std::vector<std::pair<int, std::string>> lines;
    Logger logger([&](int priority, const std::string& line) { lines.emplace_back(priority, line); });
    logger.debug("hidden");
    logger.log(LOG_ERR, "shown");
    logger.set_debug(true);
    logger.debug("now shown");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == std::pair<int, std::string>{LOG_ERR, "shown"});
    CHECK(lines[1] == std::pair<int, std::string>{LOG_DEBUG, "now shown"});
}

TEST_CASE("review #16: bytes above ASCII are escaped, so no log pipeline sees a line break or bad UTF-8")
{
    CHECK(log_value("caf\xc3\xa9") == "\"caf\\xc3\\xa9\"");
    CHECK(log_value("a\xc2\x85"
                    "b") == "\"a\\xc2\\x85b\""); // U+0085, NEXT LINE
    CHECK(log_value("bad\xff") == "\"bad\\xff\"");
    CHECK(log_value("plain") == "plain");
}
