#include "fakes.hpp"
#include "provider_json.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

std::string problem_of(const HttpResult& answer)
{
    auto read = read_provider_json(answer, "test endpoint");
    REQUIRE(std::holds_alternative<std::string>(read));
    return std::get<std::string>(read);
}

} // namespace

TEST_CASE("a 200 with one JSON object is read")
{
    auto read = read_provider_json(answer(200, R"({"sub":"alice","n":1})"), "test endpoint");
    REQUIRE(std::holds_alternative<nlohmann::json>(read));
    CHECK(std::get<nlohmann::json>(read)["sub"] == "alice");
}

TEST_CASE("every other answer gives a reason naming the endpoint, never the body")
{
    CHECK(problem_of(transport_failure("Couldn't connect to server")) ==
          "test endpoint unreachable: Couldn't connect to server");
    CHECK(problem_of(answer(302, "")) == "test endpoint answered HTTP 302 (redirect not followed)");
    CHECK(problem_of(answer(500, "{}")) == "test endpoint answered HTTP 500");
    CHECK(problem_of(answer(204, "")) == "test endpoint answered HTTP 204");
    CHECK(problem_of(answer(200, "<html>Zq9Secret</html>")) == "test endpoint answer is not a JSON object (22 bytes)");
    CHECK(problem_of(answer(200, R"(["alice"])")).find("not a JSON object") != std::string::npos);
    CHECK(problem_of(answer(200, "")).find("not a JSON object") != std::string::npos);
}
