#include "digest.hpp"
#include "key_hash.hpp"

#include <catch2/catch.hpp>

using pam_oauth2::sha256_hex;
using pam_oauth2::token::key_hash_hex;

TEST_CASE("key hash: the SHA-256 the core computes with OpenSSL, for every padding case")
{
    // FIPS 180-2 appendix B examples, then lengths around the 55/56/64-byte padding edges.
    CHECK(key_hash_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(key_hash_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(key_hash_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    std::string text;
    for (int length = 0; length < 200; ++length) {
        CHECK(key_hash_hex(text) == sha256_hex(text));
        text += static_cast<char>('a' + length % 26 + (length % 7 == 0 ? 128 : 0));
    }
    // A sign-in key as token_options.cpp builds it: issuer, client, scope, audience and resource.
    const std::string identity = "https://idp.example.com\npg-cli\nopenid offline_access\n\nurn:example:postgres";
    CHECK(key_hash_hex(identity) == sha256_hex(identity));
}
