#include "provider_breaker.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;
using namespace std::chrono_literals;
using Breaker = ProviderBreaker;

namespace {

struct FakeClock {
    std::chrono::steady_clock::time_point now{};
    Breaker::Clock clock()
    {
        return [this] { return now; };
    }
};

// `count` requests to `host` that each get no answer.
void fail(Breaker& breaker, const std::string& host, int count)
{
    for (int i = 0; i < count; ++i) {
        const auto pass = breaker.admit(host);
        REQUIRE(pass.go);
        breaker.record(host, pass, Breaker::Result::Outage);
    }
}

} // namespace

TEST_CASE("provider_breaker: only a request without any HTTP answer counts as an outage")
{
    HttpResult no_answer;
    no_answer.transport_error = "Timeout was reached";
    CHECK(counts_as_outage(no_answer));
    HttpResult refused_with_4xx;
    refused_with_4xx.transport_ok = true;
    refused_with_4xx.status = 401;
    CHECK_FALSE(counts_as_outage(refused_with_4xx));
    HttpResult server_error;
    server_error.transport_ok = true;
    server_error.status = 503;
    CHECK_FALSE(counts_as_outage(server_error));
}

TEST_CASE("provider_breaker: opens after N outages in a row, per host, and fails fast while open")
{
    FakeClock time;
    Breaker breaker(time.clock(), {3, 2000ms, 60000ms});
    fail(breaker, "idp.example.com", 2);
    CHECK(breaker.state("idp.example.com") == Breaker::State::Closed);
    // An answer in between resets the count: outages must come in a row.
    auto pass = breaker.admit("idp.example.com");
    breaker.record("idp.example.com", pass, Breaker::Result::Answered);
    fail(breaker, "idp.example.com", 2);
    CHECK(breaker.state("idp.example.com") == Breaker::State::Closed);
    fail(breaker, "idp.example.com", 1);
    CHECK(breaker.state("idp.example.com") == Breaker::State::Open);
    pass = breaker.admit("idp.example.com");
    CHECK_FALSE(pass.go);
    CHECK(pass.refusal.find("provider idp.example.com is failing") != std::string::npos);
    CHECK(pass.refusal.find("retrying after 2000 ms") != std::string::npos);
    // Another host is not affected.
    CHECK(breaker.admit("other.example.com").go);
    CHECK(breaker.state("other.example.com") == Breaker::State::Closed);
}

TEST_CASE("provider_breaker: requests that never reached the host do not count")
{
    FakeClock time;
    Breaker breaker(time.clock(), {2, 1000ms, 8000ms});
    for (int i = 0; i < 10; ++i) {
        const auto pass = breaker.admit("h");
        breaker.record("h", pass, Breaker::Result::NotSent);
    }
    CHECK(breaker.state("h") == Breaker::State::Closed);
}

TEST_CASE("provider_breaker: one probe after the cool-off; its failure doubles the cool-off up to the cap")
{
    FakeClock time;
    Breaker breaker(time.clock(), {1, 1000ms, 3000ms});
    fail(breaker, "h", 1);
    time.now += 999ms;
    CHECK_FALSE(breaker.admit("h").go);
    time.now += 1ms;
    const auto probe = breaker.admit("h");
    REQUIRE(probe.go);
    CHECK(probe.probe);
    CHECK(breaker.state("h") == Breaker::State::Probing);
    // While the probe runs, everyone else still fails fast.
    const auto second = breaker.admit("h");
    CHECK_FALSE(second.go);
    CHECK(second.refusal.find("probing") != std::string::npos);
    breaker.record("h", probe, Breaker::Result::Outage);
    CHECK(breaker.state("h") == Breaker::State::Open);
    time.now += 1999ms;
    CHECK_FALSE(breaker.admit("h").go); // 2 s now
    time.now += 1ms;
    auto next = breaker.admit("h");
    REQUIRE(next.probe);
    breaker.record("h", next, Breaker::Result::Outage);
    time.now += 2999ms;
    CHECK_FALSE(breaker.admit("h").go); // capped at 3 s, not 4
    time.now += 1ms;
    next = breaker.admit("h");
    REQUIRE(next.probe);
    breaker.record("h", next, Breaker::Result::Outage);
    time.now += 3000ms;
    next = breaker.admit("h");
    REQUIRE(next.probe);
    // A probe that was never sent hands probing to the next request.
    breaker.record("h", next, Breaker::Result::NotSent);
    next = breaker.admit("h");
    REQUIRE(next.probe);
    // Its answer closes the breaker: everyone goes again, counting from zero.
    breaker.record("h", next, Breaker::Result::Answered);
    CHECK(breaker.state("h") == Breaker::State::Closed);
    const auto after = breaker.admit("h");
    CHECK(after.go);
    CHECK_FALSE(after.probe);
}
