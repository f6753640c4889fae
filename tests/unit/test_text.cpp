#include "text.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;

TEST_CASE("lists are split at commas, trimmed, empty items dropped")
{
    CHECK(split_list(" a, b ,,c ") == std::vector<std::string>{"a", "b", "c"});
    CHECK(split_list("").empty());
    CHECK(split_list(" , ").empty());
    CHECK(trim("\t x y \r") == "x y");
}

TEST_CASE("values quoted in reasons are capped and escaped")
{
    CHECK(log_safe("alice") == "alice");
    CHECK(log_safe(std::string(100, 'x')) == std::string(64, 'x') + "...");
    CHECK(log_safe("a\nb\x1b\"'\\c\xc3\xa9") == "a\\x0ab\\x1b\\x22\\x27\\x5cc\\xc3\\xa9");
    CHECK(log_safe("abcdef", 3) == "abc...");
}

TEST_CASE("terminal output keeps text but no control bytes")
{
    CHECK(printable("claim 'bob'\\x1b") == "claim 'bob'\\x1b");
    CHECK(printable("a\x1b[2J\nb") == "a\\x1b[2J\\x0ab");
    CHECK(printable("caf\xc3\xa9") == "caf\\xc3\\xa9");
}

TEST_CASE("ASCII case only")
{
    CHECK(equal_ignoring_ascii_case("Alice", "aLICE"));
    CHECK_FALSE(equal_ignoring_ascii_case("alice", "alic"));
    CHECK_FALSE(equal_ignoring_ascii_case("\xc9", "\xe9"));
    CHECK(ascii_lower('Z') == 'z');
    CHECK(ascii_lower('\xc9') == '\xc9');
}

TEST_CASE("file modes are written as chmod takes them")
{
    CHECK(octal_mode(0100640) == "0640"); // a regular file's st_mode: the type bits are not shown
    CHECK(octal_mode(040700) == "0700");
    CHECK(octal_mode(01733) == "1733");
    CHECK(octal_mode(0) == "0000");
}

TEST_CASE("form decoding: plus is a space, %XX a byte, a broken escape is refused")
{
    CHECK(form_decode("a+b%20c%2Bd") == std::optional<std::string>("a b c+d"));
    CHECK(form_decode("%00%ff%C3%A9") == std::optional<std::string>(std::string("\0\xff\xc3\xa9", 4)));
    CHECK(form_decode("") == std::optional<std::string>(""));
    CHECK_FALSE(form_decode("%"));
    CHECK_FALSE(form_decode("ab%2"));
    CHECK_FALSE(form_decode("%g0"));
    CHECK_FALSE(form_decode("%0z"));
}
