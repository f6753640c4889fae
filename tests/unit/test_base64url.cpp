#include "base64url.hpp"

#include <catch2/catch.hpp>

using pam_oauth2::base64url_decode;

TEST_CASE("base64url decodes RFC 4648 test vectors without padding")
{
    CHECK(base64url_decode("") == std::string(""));
    CHECK(base64url_decode("Zg") == std::string("f"));
    CHECK(base64url_decode("Zm8") == std::string("fo"));
    CHECK(base64url_decode("Zm9v") == std::string("foo"));
    CHECK(base64url_decode("Zm9vYg") == std::string("foob"));
    CHECK(base64url_decode("Zm9vYmE") == std::string("fooba"));
    CHECK(base64url_decode("Zm9vYmFy") == std::string("foobar"));
    // RFC 7515 appendix A.1 protected header.
    CHECK(base64url_decode("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9") ==
          std::string("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}"));
    CHECK(base64url_decode("-_8") == std::string("\xfb\xff", 2));
}

TEST_CASE("base64url refuses anything not strictly canonical")
{
    CHECK_FALSE(base64url_decode("Zg=="));  // padding
    CHECK_FALSE(base64url_decode("Z"));     // impossible length
    CHECK_FALSE(base64url_decode("Zm9v+")); // standard alphabet
    CHECK_FALSE(base64url_decode("Zm/v"));
    CHECK_FALSE(base64url_decode("Zh")); // non-zero trailing bits
    CHECK_FALSE(base64url_decode("Zm9 v"));
}
