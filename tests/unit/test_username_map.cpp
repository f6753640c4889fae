#include "authenticator.hpp"
#include "configuration.hpp"
#include "fakes.hpp"
#include "temp_dir.hpp"
#include "text.hpp"
#include "username_map.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <clocale>
#include <cstdlib>
#include <fstream>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

UsernameMap parse_map(const char* text, bool ignore_case = false)
{
    auto parsed = UsernameMap::parse(text, ignore_case);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
        FAIL("unexpected parse error: " << *problem);
    }
    return std::move(std::get<UsernameMap>(parsed));
}

std::string parse_problem(const char* text)
{
    auto parsed = UsernameMap::parse(text, false);
    REQUIRE(std::holds_alternative<std::string>(parsed));
    return std::get<std::string>(parsed);
}

} // namespace

TEST_CASE("username_map: exact lines, regex lines with \\1, comments and quotes")
{
    const auto map = parse_map("# claim value          PAM user\n"
                               "alice@example.com      alice\n"
                               "\n"
                               "/^(.*)@corp\\.example$  \\1   # everyone at corp by local part\n"
                               "\"Bob Builder\"          bob\n"
                               "/^svc-[a-z]+$          robots\n");
    CHECK(map.size() == 4);
    CHECK(map.maps("alice@example.com", "alice"));
    CHECK_FALSE(map.maps("alice@example.com", "bob"));
    CHECK(map.maps("carol@corp.example", "carol"));
    CHECK_FALSE(map.maps("carol@corp.example", "dave"));
    CHECK_FALSE(map.maps("carol@corp.example.evil", "carol"));
    CHECK(map.maps("Bob Builder", "bob"));
    CHECK(map.maps("svc-backup", "robots"));
    CHECK_FALSE(map.maps("svc-backup2", "robots"));
    CHECK_FALSE(map.maps("ALICE@example.com", "alice"));
}

TEST_CASE("username_map: patterns must match the whole claim value")
{
    const auto map = parse_map("/alice  alice\n");
    CHECK(map.maps("alice", "alice"));
    CHECK_FALSE(map.maps("malice", "alice"));
    CHECK_FALSE(map.maps("alice2", "alice"));
}

TEST_CASE("username_map: case_insensitive applies to values, patterns and users")
{
    const auto map = parse_map("alice@example.com alice\n/^(.*)@corp$ \\1\n", true);
    CHECK(map.maps("ALICE@Example.com", "Alice"));
    CHECK(map.maps("Carol@CORP", "carol"));
}

TEST_CASE("username_map: malformed files are refused with the line")
{
    CHECK(parse_problem("alice\n") == "username_map line 1: expected two fields: claim value (or /regex) and PAM user");
    CHECK(parse_problem("# ok\na b c\n").find("line 2") != std::string::npos);
    CHECK(parse_problem("/(unclosed  alice\n") == "username_map line 1: pattern does not compile");
    CHECK(parse_problem("alice \\1\n").find("needs a /regex") != std::string::npos);
    CHECK(parse_problem("\"open  alice\n").find("unterminated quote") != std::string::npos);
    std::string many;
    for (int i = 0; i <= 1000; ++i) {
        many += "user" + std::to_string(i) + " u\n";
    }
    CHECK(parse_problem(many.c_str()).find("more than 1000 rules") != std::string::npos);
}

TEST_CASE("username_map: patterns that would make regcomp explode are refused before it runs")
{
    // Found by fuzz_username_map: 24 stacked '+' made glibc's regcomp allocate over 2 GB.
    CHECK(parse_problem("/^(.*)@C++++++++++++++++++++++++orp$ \\1\n") ==
          "username_map line 1: pattern stacks quantifiers (like a++)");
    CHECK(parse_problem("/a*? a\n").find("stacks quantifiers") != std::string::npos);
    CHECK(parse_problem("/(((a+)+)+) a\n").find("nests quantifiers deeper than 2") != std::string::npos);
    CHECK(parse_map("/(a{1,50}){1,50}x{3} a\n").size() == 1); // two levels of nesting stay allowed
    CHECK(parse_problem("/a{101} a\n").find("bound above 100") != std::string::npos);
    CHECK(parse_problem("/a{1,x} a\n").find("malformed {bound}") != std::string::npos);
    CHECK(parse_problem(("/" + std::string(257, 'a') + " a\n").c_str()).find("longer than 256") != std::string::npos);
    CHECK(parse_problem("/[abc a\n").find("unterminated [bracket") != std::string::npos);
    CHECK(parse_problem("/a) a\n").find("unmatched )") != std::string::npos);
    // Ordinary mapping patterns stay accepted.
    const auto map = parse_map("/^(.*)@corp\\.example$ \\1\n/^([a-z]+)(-[0-9]{1,4})?$ \\1\n/^[]a-z]+\\+x$ x\n");
    CHECK(map.maps("alice-42", "alice"));
    CHECK(map.maps("alice@corp.example", "alice"));
}

TEST_CASE("username_map in a login: the map replaces equality, and a broken map is a configuration error")
{
    const TempDir temp;
    const std::string& directory = temp.path;
    const std::string path = directory + "/map";
    const auto write_map = [&](const char* text) {
        std::ofstream(path) << text;
        REQUIRE(chmod(path.c_str(), 0644) == 0);
    };
    std::string map_path = path;
    const HttpClientFactory factory = [](const HttpSettings&) -> std::unique_ptr<HttpClient> {
        return std::make_unique<FakeHttpClient>(
            [](const FakeHttpClient::Seen&) { return answer(200, R"({"email":"alice@corp.example"})"); });
    };
    const Logger logger([](int, const std::string&) {});
    // The map is read and compiled by the one configuration load; a broken map never reaches a decision.
    const auto login = [&](const char* user) {
        const std::string map_argument = "username_map=" + map_path;
        const auto loaded = load_configuration(
            {"userinfo_url=https://idp.example.com/userinfo", "username_claim=email", "cache_ttl=0", map_argument});
        if (const auto* error = std::get_if<ConfigError>(&loaded)) {
            Decision refused;
            refused.outcome = Outcome::ConfigError;
            refused.reason = error->message;
            return refused;
        }
        return decide_login(
            user, SecureString("tok"), std::get<Configuration>(loaded), factory, [] { return 1'700'000'000LL; },
            logger);
    };
    if (geteuid() == 0) {
        write_map("/^(.*)@corp\\.example$ \\1\n");
        CHECK(login("alice").outcome == Outcome::Granted);
        const auto other = login("bob");
        CHECK(other.outcome == Outcome::Denied);
        CHECK(other.reason == "claim email is 'alice@corp.example', which username_map does not map to 'bob'");

        write_map("/(broken alice\n");
        const auto broken = login("alice");
        CHECK(broken.outcome == Outcome::ConfigError);
        CHECK(broken.reason.find("line 1: pattern does not compile") != std::string::npos);

        REQUIRE(chmod(path.c_str(), 0666) == 0);
        CHECK(login("alice").reason.find("username_map file " + path + ": must not be group- or world-writable") !=
              std::string::npos);
    }
    map_path = directory + "/missing";
    CHECK(login("alice").outcome == Outcome::ConfigError);
}

TEST_CASE("review #19: back-references are refused in patterns")
{
    CHECK(parse_problem("/^(a+)\\1$ alice\n").find("back-reference") != std::string::npos);
    CHECK(parse_problem("/^(.*)@(.*)\\2$ \\1\n").find("back-reference") != std::string::npos);
    CHECK(parse_map("/^(.*)@example\\.com$ \\1\n").maps("alice@example.com", "alice")); // \1 as the user is fine
}

TEST_CASE("review #11: case folding is ASCII only, whatever the host process's locale")
{
    const std::string previous = setlocale(LC_ALL, nullptr);
    for (const char* locale : {"C", "C.UTF-8", "C.utf8"}) {
        if (setlocale(LC_ALL, locale) == nullptr) {
            continue;
        }
        INFO(locale);
        const auto map = parse_map("/^caf\xc3\xa9$ alice\n/^[a-z]+$ bob\n", true);
        CHECK(map.maps("CAF\xc3\xa9", "alice"));
        CHECK_FALSE(map.maps("CAF\xc3\x89", "alice")); // É is not é: only ASCII letters fold
        CHECK(map.maps("BOB", "bob"));
        CHECK_FALSE(equal_ignoring_ascii_case("\xc9", "\xe9")); // É and é in ISO-8859-1
        CHECK(equal_ignoring_ascii_case("ADMIN", "admin"));
        CHECK(ascii_lower('I') == 'i'); // never the Turkish dotless i
    }
    setlocale(LC_ALL, previous.c_str());
}
