#include "config_reader.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace pam_oauth2;

namespace {

std::vector<ConfigLine> lines_of(std::string_view text, std::string_view kind = "issuer")
{
    auto read = read_config_lines(text, kind);
    REQUIRE(std::holds_alternative<std::vector<ConfigLine>>(read));
    return std::get<std::vector<ConfigLine>>(read);
}

ConfigSyntaxError error_of(std::string_view text, std::string_view kind)
{
    auto read = read_config_lines(text, kind);
    REQUIRE(std::holds_alternative<ConfigSyntaxError>(read));
    return std::get<ConfigSyntaxError>(read);
}

} // namespace

TEST_CASE("one comment rule: '#' at the start of a line or after a blank")
{
    CHECK(without_comment("# a whole line") == "");
    CHECK(without_comment("   # indented") == "");
    CHECK(without_comment("deny_users = root,postgres   # never the superuser") == "deny_users = root,postgres");
    CHECK(without_comment("groups = dba,ops\t# two teams") == "groups = dba,ops");
    CHECK(without_comment("max_provider_requests = 3 # inline") == "max_provider_requests = 3");
    CHECK(without_comment("userinfo_url = https://idp.example.com/#fragment") ==
          "userinfo_url = https://idp.example.com/#fragment");
    CHECK(without_comment("  key = value \r") == "key = value");
}

TEST_CASE("key = value lines, bare keys and sections, with their line numbers")
{
    const auto lines = lines_of("# head\n\ndebug\ntimeout = 3\n[issuer staff]   # Keycloak\nissuer=https://a\n"
                                "[ issuer  b ]\nempty =\n");
    REQUIRE(lines.size() == 6);
    CHECK(lines[0].number == 3);
    CHECK(lines[0].key == "debug");
    CHECK_FALSE(lines[0].value);
    CHECK(lines[1].number == 4);
    CHECK(lines[1].key == "timeout");
    CHECK(lines[1].value == std::string_view("3"));
    CHECK(lines[2].section);
    CHECK(lines[2].key == "staff");
    CHECK(lines[3].value == std::string_view("https://a"));
    CHECK(lines[4].section);
    CHECK(lines[4].key == "b");
    CHECK(lines[5].value == std::string_view(""));

    CHECK(error_of("a = 1\n[tenant x]\n", "issuer").number == 2);
    CHECK(error_of("[tenant x]\n", "issuer").problem == "a section is written [issuer NAME]");
    CHECK(error_of("[profile]\n", "profile").problem == "a section is written [profile NAME]");
    CHECK(error_of("[profile a b]\n", "profile").number == 1);
    CHECK(error_of("[profile a\n", "profile").number == 1);
    CHECK(error_of("[profiled a]\n", "profile").number == 1);
    CHECK(lines_of("[profile prod]\n", "profile").front().key == "prod");

    // A file without sections reads a bracketed line as a key, which its reader then refuses.
    const auto plain = lines_of("[x]\n", "");
    REQUIRE(plain.size() == 1);
    CHECK_FALSE(plain[0].section);
    CHECK(plain[0].key == "[x]");
}
