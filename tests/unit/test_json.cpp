#include "json.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace pam_oauth2;

TEST_CASE("only one JSON object is accepted, never throwing")
{
    CHECK(parse_json_object(R"({"a":1})"));
    CHECK_FALSE(parse_json_object("[1]"));
    CHECK_FALSE(parse_json_object("\"text\""));
    CHECK_FALSE(parse_json_object("{"));
    CHECK_FALSE(parse_json_object(""));
    CHECK_FALSE(parse_json_object(R"({"a":1} trailing)"));
    CHECK_FALSE(parse_json_object(std::string(100, '[') + std::string(100, ']')));
    CHECK_FALSE(parse_json_object("{\"a\":" + std::string(70, '[') + std::string(70, ']') + "}"));
}

TEST_CASE("review #17: an object that repeats a key is refused at any depth")
{
    CHECK_FALSE(parse_json_object(R"({"alg":"none","alg":"RS256"})"));
    CHECK_FALSE(parse_json_object(R"({"a":{"b":1,"b":2}})"));
    CHECK_FALSE(parse_json_object(R"({"a":[{"b":1},{"c":1,"c":1}]})"));
    // The same key in sibling objects is not a repetition.
    CHECK(parse_json_object(R"({"a":{"b":1},"c":{"b":2},"d":[{"b":3},{"b":4}]})"));
}

TEST_CASE("members are read only with the right type")
{
    const auto object = *parse_json_object(R"({"s":"x","n":5,"f":5.9,"big":1e30,"neg":-3,"u":18446744073709551615})");
    CHECK(string_member(object, "s") == std::string("x"));
    CHECK_FALSE(string_member(object, "n"));
    CHECK(integer_member(object, "n") == 5);
    CHECK(integer_member(object, "f") == 5);
    CHECK(integer_member(object, "neg") == -3);
    CHECK_FALSE(integer_member(object, "big"));
    CHECK_FALSE(integer_member(object, "u"));
    CHECK_FALSE(integer_member(object, "s"));
    CHECK_FALSE(integer_member(object, "missing"));
    CHECK(std::string(json_type_phrase(object["s"])) == "a string");
}
