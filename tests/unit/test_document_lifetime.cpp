#include "document_lifetime.hpp"
#include "fakes.hpp"
#include "jose_testkit.hpp"
#include "key_source.hpp"
#include "memory_store.hpp"
#include "settings.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

TEST_CASE("Cache-Control shortens the reuse of discovery documents and JWKS, within bounds")
{
    CHECK(document_lifetime("") == jwks_cache_seconds);
    CHECK(document_lifetime("public") == jwks_cache_seconds);
    CHECK(document_lifetime("public, max-age=300") == 300);
    CHECK(document_lifetime("MAX-AGE=120, must-revalidate") == 120);
    CHECK(document_lifetime("max-age=\"90\"") == 90);
    CHECK(document_lifetime("max-age=86400") == jwks_cache_seconds); // never longer than the default
    CHECK(document_lifetime("max-age=5") == jwks_min_cache_seconds); // never shorter than the floor
    CHECK(document_lifetime("no-cache") == jwks_min_cache_seconds);
    CHECK(document_lifetime("no-store, max-age=300") == jwks_min_cache_seconds);
    CHECK(document_lifetime("max-age=300, s-maxage=100") == 100);
    CHECK(document_lifetime("max-age=-1") == jwks_cache_seconds); // malformed: ignored
    CHECK(document_lifetime("max-age=abc") == jwks_cache_seconds);
    CHECK(document_lifetime("max-age=99999999999999999999999") == jwks_cache_seconds);
}

TEST_CASE("a stored document keeps its lifetime in a first line only when it is shorter")
{
    CHECK(stored_document(jwks_cache_seconds, "{\"keys\":[]}") == "{\"keys\":[]}");
    const std::string text = stored_document(120, "{\"keys\":[]}");
    CHECK(text == "max-age=120\n{\"keys\":[]}");
    const auto read = read_stored_document(text);
    CHECK(read.lifetime == 120);
    CHECK(read.body == "{\"keys\":[]}");
    const auto plain = read_stored_document("{\"keys\":[]}");
    CHECK(plain.lifetime == jwks_cache_seconds);
    CHECK(plain.body == "{\"keys\":[]}");
    CHECK(read_stored_document("max-age=1\n{}").lifetime == jwks_min_cache_seconds);
    CHECK(read_stored_document("max-age=x\n{}").body == "max-age=x\n{}"); // not ours: refused by the parse
}

TEST_CASE("the provider's Cache-Control decides when the key set is fetched again")
{
    const std::string issuer = "https://idp.example.com/realms/acme";
    TestKey key = make_key("ES256", "ec-1");
    int fetches = 0;
    std::string cache_control = "max-age=120";
    FakeHttpClient http{[&](const FakeHttpClient::Seen&) {
        ++fetches;
        HttpResult result = answer(200, jwks_of({&key}));
        result.cache_control = cache_control;
        return result;
    }};
    JwtSettings settings;
    settings.jwks_url = issuer + "/certs";
    long long now = 1'700'000'000;
    const MemoryStore store(16);
    const Logger logger{[](int, const std::string&) {}};
    RemoteKeySource source(
        issuer, settings, HttpSettings{}, http, &store, [&] { return now; }, logger);
    REQUIRE(source.keys(false).error.empty());
    now += 119;
    REQUIRE(source.keys(false).error.empty());
    CHECK(fetches == 1);
    now += 1;
    REQUIRE(source.keys(false).error.empty());
    CHECK(fetches == 2);
    cache_control.clear(); // the next copy lives the default
    now += 120;
    REQUIRE(source.keys(false).error.empty());
    CHECK(fetches == 3);
    now += jwks_cache_seconds - 1;
    REQUIRE(source.keys(false).error.empty());
    CHECK(fetches == 3);
}
