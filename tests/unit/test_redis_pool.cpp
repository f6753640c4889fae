#include "circuit_breaker.hpp"
#include "redis_pool.hpp"

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using pam_oauth2::Failure;
using pam_oauth2::shared_cache::CircuitBreaker;
using pam_oauth2::shared_cache::Deadline;
using pam_oauth2::shared_cache::RedisConnection;
using pam_oauth2::shared_cache::RedisPool;
using namespace std::chrono_literals;
using State = CircuitBreaker::State;

namespace {

CircuitBreaker::Settings quick_breaker()
{
    CircuitBreaker::Settings settings;
    settings.failures_to_open = 3;
    settings.open_for = 1000ms;
    settings.max_open_for = 3000ms;
    return settings;
}

} // namespace

TEST_CASE("the breaker opens after failures in a row, and only then")
{
    CircuitBreaker breaker(quick_breaker());
    const auto t0 = CircuitBreaker::Clock::time_point{} + 100h;
    CHECK_FALSE(breaker.record_failure(t0));
    CHECK_FALSE(breaker.record_failure(t0));
    CHECK_FALSE(breaker.record_success()); // closed already: no change to report
    CHECK_FALSE(breaker.record_failure(t0));
    CHECK_FALSE(breaker.record_failure(t0));
    CHECK(breaker.record_failure(t0) == State::Open);
    CHECK_FALSE(breaker.allow(t0 + 999ms));
    CHECK(breaker.state() == State::Open);
}

TEST_CASE("after open_for one trial goes through; its success closes the breaker")
{
    CircuitBreaker breaker(quick_breaker());
    const auto t0 = CircuitBreaker::Clock::time_point{} + 100h;
    for (int i = 0; i < 3; ++i) {
        static_cast<void>(breaker.record_failure(t0));
    }
    CHECK(breaker.allow(t0 + 1000ms));
    CHECK(breaker.state() == State::HalfOpen);
    CHECK_FALSE(breaker.allow(t0 + 1001ms)); // one trial at a time
    CHECK(breaker.record_success() == State::Closed);
    CHECK(breaker.allow(t0 + 1002ms));
}

TEST_CASE("a failed trial opens the breaker for twice as long, up to the bound")
{
    CircuitBreaker breaker(quick_breaker());
    auto now = CircuitBreaker::Clock::time_point{} + 100h;
    for (int i = 0; i < 3; ++i) {
        static_cast<void>(breaker.record_failure(now));
    }
    for (const auto wait : {1000ms, 2000ms, 3000ms, 3000ms}) {
        CHECK_FALSE(breaker.allow(now + wait - 1ms));
        now += wait;
        REQUIRE(breaker.allow(now));
        CHECK(breaker.record_failure(now) == State::Open);
    }
    // A success resets the wait to open_for.
    now += 3000ms;
    REQUIRE(breaker.allow(now));
    CHECK(breaker.record_success() == State::Closed);
    for (int i = 0; i < 3; ++i) {
        static_cast<void>(breaker.record_failure(now));
    }
    CHECK(breaker.allow(now + 1000ms));
}

TEST_CASE("a trial that never reports back is replaced after open_for")
{
    CircuitBreaker breaker(quick_breaker());
    const auto t0 = CircuitBreaker::Clock::time_point{} + 100h;
    for (int i = 0; i < 3; ++i) {
        static_cast<void>(breaker.record_failure(t0));
    }
    REQUIRE(breaker.allow(t0 + 1000ms));
    CHECK_FALSE(breaker.allow(t0 + 1999ms));
    CHECK(breaker.allow(t0 + 2000ms));
    CHECK(std::string(name(State::HalfOpen)) == "half-open");
}

TEST_CASE("a pool whose connections fail stops opening them once the breaker opens")
{
    int attempts = 0;
    std::vector<State> changes;
    RedisPool::Settings settings;
    settings.breaker = quick_breaker();
    settings.breaker.open_for = 50ms;
    RedisPool pool(
        [&](Deadline) -> pam_oauth2::Fallible<std::unique_ptr<RedisConnection>> {
            ++attempts;
            return Failure{"redis 127.0.0.1:1: connect: Connection refused"};
        },
        settings, [&](State state) { changes.push_back(state); });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (int i = 0; i < 10; ++i) {
        const auto reply = pool.command({"GET", "po2:x"}, deadline);
        REQUIRE_FALSE(reply.ok());
        if (i < 3) {
            CHECK_THAT(reply.error(), Catch::Contains("Connection refused"));
        } else {
            CHECK_THAT(reply.error(), Catch::Contains("circuit breaker open"));
        }
    }
    CHECK(attempts == 3);
    CHECK(changes == std::vector<State>{State::Open});
    CHECK(pool.breaker_state() == State::Open);
    std::this_thread::sleep_for(60ms);
    CHECK_FALSE(pool.command({"GET", "po2:x"}, deadline).ok()); // the trial
    CHECK(attempts == 4);
    CHECK(changes == std::vector<State>{State::Open, State::Open});
    CHECK(pool.opened() == 4);
}
