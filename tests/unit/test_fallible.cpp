#include "fallible.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <variant>

using pam_oauth2::Failure;
using pam_oauth2::Fallible;

namespace {

Fallible<std::string> path_or_reason(bool ok)
{
    if (!ok) {
        return Failure{"cannot read /etc/pam.d/x"};
    }
    return std::string("/etc/pam.d/x");
}

} // namespace

TEST_CASE("a Fallible string keeps its value and its reason apart")
{
    const auto found = path_or_reason(true);
    REQUIRE(found.ok());
    CHECK(found.value() == "/etc/pam.d/x");
    CHECK_THROWS_AS(found.error(), std::bad_variant_access);

    const auto failed = path_or_reason(false);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error() == "cannot read /etc/pam.d/x");
    CHECK_THROWS_AS(failed.value(), std::bad_variant_access);
}

TEST_CASE("a Fallible value can be moved out")
{
    Fallible<std::string> held = std::string(100, 'x');
    const std::string taken = std::move(held).value();
    CHECK(taken.size() == 100);
}
