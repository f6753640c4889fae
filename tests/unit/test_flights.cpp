#include "flights.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

#if defined(__SANITIZE_ADDRESS__)
#define PAM_OAUTH2_TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PAM_OAUTH2_TEST_LSAN 1
#endif
#endif
#ifdef PAM_OAUTH2_TEST_LSAN
#include <sanitizer/lsan_interface.h>
#endif

using namespace pam_oauth2;
using namespace std::chrono_literals;

namespace {

Decision granted()
{
    Decision decision;
    decision.outcome = Outcome::Granted;
    decision.reason = "ok";
    return decision;
}

// An exception whose destructor throws: it escapes run_guarded's catch (...) when the handler ends,
// as a bad_alloc does when the handler's own reason string cannot be allocated.
struct Escaping {
    Escaping() = default;
    Escaping(const Escaping&) = default;
    Escaping& operator=(const Escaping&) = default;
    // NOLINTNEXTLINE(bugprone-exception-escape): throwing from here is the point of this type
    ~Escaping() noexcept(false) { throw std::runtime_error("escaped the handler"); }
};

} // namespace

TEST_CASE("flights: work that throws leaves no entry, the next decide() leads again")
{
    Metrics metrics;
    Flights flights(metrics);
    int runs = 0;
    const auto counted = [&] {
        ++runs;
        return granted();
    };
    CHECK(flights
              .decide(
                  "k", []() -> Decision { throw std::bad_alloc(); }, 1000ms, 5)
              ->outcome == Outcome::OutOfMemory);
    CHECK(flights
              .decide(
                  "k", []() -> Decision { throw 42; }, 1000ms, 5)
              ->outcome == Outcome::InternalError);
    CHECK(flights.decide("k", counted, 1000ms, 5)->outcome == Outcome::Granted);
    CHECK(runs == 1);
    CHECK(metrics.text().find("pam_oauth2d_verifications_in_flight 0") != std::string::npos);
}

TEST_CASE("flights: an exception that escapes the leader's guard still removes its entry")
{
    Metrics metrics;
    Flights flights(metrics);
    {
#ifdef PAM_OAUTH2_TEST_LSAN
        // The C++ runtime cannot free an exception object whose destructor threw: not the code's leak.
        const __lsan::ScopedDisabler runtime_leaks_the_escaped_exception;
#endif
        CHECK_THROWS(flights.decide(
            "k", []() -> Decision { throw Escaping(); }, 1000ms, 5));
    }
    int runs = 0;
    const auto decided = flights.decide(
        "k",
        [&] {
            ++runs;
            return granted();
        },
        1000ms, 5);
    REQUIRE(decided);
    CHECK(decided->outcome == Outcome::Granted); // not "the verification in flight was lost"
    CHECK(runs == 1);
    CHECK(metrics.text().find("pam_oauth2d_verifications_in_flight 0") != std::string::npos);
}
