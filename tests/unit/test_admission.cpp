#include "admission.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace pam_oauth2;
using namespace std::chrono_literals;

TEST_CASE("admission: a key holds at most its share; slots come back when released")
{
    Admission admission;
    std::vector<Admission::Slot> held;
    for (int i = 0; i < 3; ++i) {
        auto slot = admission.enter("uid 70", 3);
        REQUIRE(slot);
        held.push_back(std::move(*slot));
    }
    CHECK_FALSE(admission.enter("uid 70", 3));
    CHECK(admission.held("uid 70") == 3);
    // Another key is not affected.
    CHECK(admission.enter("uid 71", 3));
    held.pop_back();
    CHECK(admission.held("uid 70") == 2);
    CHECK(admission.enter("uid 70", 3));
    held.clear();
    CHECK(admission.held("uid 70") == 0);
}
