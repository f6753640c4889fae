#include "fakes.hpp"
#include "token_syntax.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace pam_oauth2;
using pam_oauth2::testing::OwnedToken;

namespace {
const std::string jws = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

bool is_compact_jws(const std::string& token)
{
    return OwnedToken(token).presented.jws() != nullptr;
}

std::optional<std::string> hint_for(const std::string& token)
{
    return truncation_hint(OwnedToken(token));
}
} // namespace

TEST_CASE("token syntax accepts RFC 6750 b64token values")
{
    CHECK_FALSE(check_token_syntax("abcXYZ019-._~+/", 100));
    CHECK_FALSE(check_token_syntax("abc==", 100));
    CHECK_FALSE(check_token_syntax(jws, 100));
}

TEST_CASE("token syntax refuses empty, oversize and foreign characters, without echoing them")
{
    CHECK(check_token_syntax("", 100) == std::string("empty token"));
    CHECK(check_token_syntax(std::string(101, 'a'), 100)->find("max_token_bytes=100") != std::string::npos);
    CHECK(check_token_syntax("===", 100));
    CHECK(check_token_syntax("a=b", 100)); // '=' only at the end
    const auto space = check_token_syntax("secretpart withspace", 100);
    REQUIRE(space);
    CHECK(space->find("offset 10") != std::string::npos);
    CHECK(space->find("secretpart") == std::string::npos);
    CHECK(check_token_syntax("abc\n", 100));
    CHECK(check_token_syntax(std::string("ab\0c", 4), 100));
    CHECK(check_token_syntax("t\xc3\xa9st", 100));
    CHECK(check_token_syntax("a\"b", 100));
}

TEST_CASE("compact JWS shape")
{
    CHECK(is_compact_jws(jws));
    CHECK_FALSE(is_compact_jws("opaque-token"));
    CHECK_FALSE(is_compact_jws(jws.substr(0, jws.rfind('.'))));
    CHECK_FALSE(is_compact_jws(jws + ".x"));
    CHECK_FALSE(is_compact_jws("Zm9v.Zm9v.Zm9v")); // header is not JSON
}

TEST_CASE("whatever a provider might take for a JWT is routed to jwt, parsed strictly or not")
{
    CHECK(OwnedToken(jws).presented.looks_like_jws());
    CHECK(OwnedToken(jws + "==").presented.looks_like_jws());
    CHECK_FALSE(OwnedToken(jws + "==").presented.jws());
    CHECK(OwnedToken("Zm9v.Zm9v.Zm9v").presented.looks_like_jws());
    CHECK(OwnedToken(jws.substr(0, jws.rfind('.') + 1)).presented.looks_like_jws()); // unsigned
    CHECK(OwnedToken("eyJhbGciOi").presented.looks_like_jws());
    CHECK_FALSE(OwnedToken("opaque-token").presented.looks_like_jws());
    CHECK_FALSE(OwnedToken("a.b").presented.looks_like_jws());
}

TEST_CASE("truncation hints name cut JWTs and known client limits, and only those")
{
    CHECK_FALSE(hint_for(jws));
    CHECK_FALSE(hint_for("opaque-token"));
    const auto cut_jws = hint_for(jws.substr(0, jws.size() - 5) + "x");
    CHECK_FALSE(cut_jws); // still three valid segments: nothing says it was cut
    const auto two_segments = hint_for(jws.substr(0, 30));
    REQUIRE(two_segments);
    CHECK(two_segments->find("looks cut") != std::string::npos);
    for (const std::size_t length : {99U, 511U, 995U, 1023U, 2047U, 4095U}) {
        const auto hint = hint_for(std::string(length, 'a'));
        REQUIRE(hint);
        CHECK(hint->find(std::to_string(length) + " bytes") != std::string::npos);
    }
    CHECK_FALSE(hint_for(std::string(2048, 'a')));
}
