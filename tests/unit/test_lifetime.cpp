#include "lifetime.hpp"

#include <catch2/catch.hpp>

#include <limits>

using namespace pam_oauth2;
using nlohmann::json;

namespace {
constexpr long long now = 1'700'000'000;
constexpr long long max = std::numeric_limits<long long>::max();
constexpr long long min = std::numeric_limits<long long>::min();

TokenTimes times_of(const json& claims)
{
    auto read = read_token_times(claims);
    REQUIRE(std::holds_alternative<TokenTimes>(read));
    return std::get<TokenTimes>(read);
}
} // namespace

TEST_CASE("exp, nbf and iat are read when present and refused when not numbers")
{
    const auto times = times_of(json{{"exp", now + 10}, {"nbf", now - 10}});
    CHECK(times.expires_at == now + 10);
    CHECK(times.not_before == now - 10);
    CHECK_FALSE(times.issued_at);
    CHECK_FALSE(times_of(json::object()).expires_at);
    CHECK(std::get<std::string>(read_token_times(json{{"exp", "soon"}})) == "claim exp is not a number");
    CHECK(std::get<std::string>(read_token_times(json{{"nbf", nullptr}})) == "claim nbf is not a number");
    CHECK(std::get<std::string>(read_token_times(json{{"iat", json::array()}})) == "claim iat is not a number");
}

TEST_CASE("leeway forgives clock skew each way, and only that much")
{
    const auto check = [](const json& claims) { return check_token_times(times_of(claims), now, 60); };
    CHECK_FALSE(check(json{{"exp", now - 60}}));
    CHECK(check(json{{"exp", now - 61}})->find("token expired 61 s ago (leeway 60 s)") == 0);
    CHECK_FALSE(check(json{{"nbf", now + 60}}));
    CHECK(check(json{{"nbf", now + 61}})->find("(nbf)") != std::string::npos);
    CHECK_FALSE(check(json{{"iat", now + 60}}));
    CHECK(check(json{{"iat", now + 61}})->find("(iat)") != std::string::npos);
}

TEST_CASE("review #10: times at the ends of the 64-bit range neither wrap nor trap")
{
    CHECK(accepted_until(max, 60) == max);
    CHECK(accepted_until(min, 60) == min + 60);
    CHECK(accepted_until(now, 60) == now + 60);
    CHECK_FALSE(check_token_times(TokenTimes{max, min, min}, now, 3600));
    CHECK(check_token_times(TokenTimes{min, std::nullopt, std::nullopt}, now, 3600)->find("token expired") == 0);
    CHECK(check_token_times(TokenTimes{std::nullopt, max, std::nullopt}, now, 3600)->find("nbf") != std::string::npos);
    CHECK(check_token_times(TokenTimes{std::nullopt, std::nullopt, max}, now, 3600)->find("iat") != std::string::npos);
}

TEST_CASE("review #10: NumericDates outside 1970 to 9999 are refused")
{
    CHECK(std::get<std::string>(read_token_times(json{{"exp", max}})) ==
          "claim exp is not a date between 1970 and 9999");
    CHECK(std::get<std::string>(read_token_times(json{{"nbf", -1}})) ==
          "claim nbf is not a date between 1970 and 9999");
    CHECK(std::get<std::string>(read_token_times(json{{"iat", 1e300}})) == "claim iat is not a number");
    CHECK(times_of(json{{"exp", 253'402'300'799LL}}).expires_at == 253'402'300'799LL);
}

TEST_CASE("the account stage and the verdict cache ask the same home")
{
    CHECK_FALSE(is_past(now + 60, now + 60));
    CHECK(is_past(now + 60, now + 61));
    // A cached verdict is never reused at or after exp, leeway or not.
    CHECK(cached_verdict_usable(now + 1, now));
    CHECK_FALSE(cached_verdict_usable(now, now));
}
