#include "fakes.hpp"
#include "memory_store.hpp"
#include "settings.hpp"
#include "temp_dir.hpp"
#include "verdict_cache.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>

#include <fstream>
#include <sstream>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

struct CacheHarness {
    TempDir root;
    DiskCache disk = std::get<DiskCache>(DiskCache::open(root.path));
    CacheSettings settings;
    EndpointSettings endpoints;
    long long now = 1'700'000'000;
    VerdictCache verdicts{&disk, settings, endpoints, [this] { return now; }};

    CacheHarness()
    {
        endpoints.userinfo_url = "https://idp.example.com/userinfo";
        endpoints.introspection_url = "https://idp.example.com/introspect";
        endpoints.client_id = "pg";
    }

    static VerifyResult valid(std::optional<long long> exp)
    {
        VerifyResult result = verify_result(VerifyStatus::Valid, "");
        result.claims = {{"preferred_username", "alice"}};
        result.expires_at = exp;
        return result;
    }

    std::string everything_on_disk() const
    {
        std::string all;
        DIR* listing = opendir(disk.directory().c_str());
        while (const dirent* entry = readdir(listing)) {
            std::ifstream file(disk.directory() + "/" + entry->d_name);
            std::stringstream text;
            text << file.rdbuf();
            all += text.str();
        }
        closedir(listing);
        return all;
    }
};

} // namespace

TEST_CASE("a valid verdict is reused for cache_ttl seconds, then asked again")
{
    CacheHarness h;
    const OwnedToken token("opaque-Zq9Secret");
    CHECK_FALSE(h.verdicts.find(VerifyMethod::Userinfo, token));
    REQUIRE(h.verdicts.store(VerifyMethod::Userinfo, token, CacheHarness::valid(std::nullopt)));
    const auto hit = h.verdicts.find(VerifyMethod::Userinfo, token);
    REQUIRE(hit);
    CHECK(hit->status == VerifyStatus::Valid);
    CHECK(hit->claims["preferred_username"] == "alice");
    CHECK(hit->detail == "verdict from cache (0 s old)");
    h.now += h.settings.ttl_seconds - 1;
    CHECK(h.verdicts.find(VerifyMethod::Userinfo, token));
    h.now += 1;
    CHECK_FALSE(h.verdicts.find(VerifyMethod::Userinfo, token));
    CHECK(h.everything_on_disk().find("Zq9Secret") == std::string::npos);
}

TEST_CASE("a cached verdict never outlives the token's exp")
{
    CacheHarness h;
    const OwnedToken token("opaque-token");
    REQUIRE(h.verdicts.store(VerifyMethod::Introspect, token, CacheHarness::valid(h.now + 5)));
    CHECK(h.verdicts.find(VerifyMethod::Introspect, token));
    h.now += 5;
    CHECK_FALSE(h.verdicts.find(VerifyMethod::Introspect, token));
}

TEST_CASE("only valid verdicts of endpoint methods are stored, and only for their endpoint")
{
    CacheHarness h;
    const OwnedToken token("opaque-token");
    CHECK_FALSE(h.verdicts.store(VerifyMethod::Userinfo, token, verify_result(VerifyStatus::Invalid, "401")));
    CHECK_FALSE(h.verdicts.store(VerifyMethod::Userinfo, token, verify_result(VerifyStatus::Unavailable, "500")));
    CHECK_FALSE(h.verdicts.store(VerifyMethod::Jwt, token, CacheHarness::valid(h.now + 60)));
    REQUIRE(h.verdicts.store(VerifyMethod::Userinfo, token, CacheHarness::valid(std::nullopt)));
    CHECK_FALSE(h.verdicts.find(VerifyMethod::Introspect, token));
    CHECK_FALSE(h.verdicts.find(VerifyMethod::Userinfo, OwnedToken("another-token")));
    h.endpoints.userinfo_url = "https://other.example.com/userinfo";
    CHECK_FALSE(h.verdicts.find(VerifyMethod::Userinfo, token));
}

TEST_CASE("cache_ttl=0 or no usable cache disables verdicts")
{
    CacheHarness h;
    const OwnedToken token("opaque-token");
    h.settings.ttl_seconds = 0;
    CHECK_FALSE(h.verdicts.store(VerifyMethod::Userinfo, token, CacheHarness::valid(std::nullopt)));
    const VerdictCache none(nullptr, h.settings, h.endpoints, [] { return 0LL; });
    CHECK_FALSE(none.store(VerifyMethod::Userinfo, token, CacheHarness::valid(std::nullopt)));
    CHECK_FALSE(none.find(VerifyMethod::Userinfo, token));
}

TEST_CASE("a verdict serves only logins with the same trust settings, from a host the store still admits")
{
    MemoryStore memory(16);
    const CacheSettings settings;
    EndpointSettings endpoints;
    endpoints.userinfo_url = "https://idp.example.com/userinfo";
    const OwnedToken token("opaque-token");
    const auto now = [] { return 1'700'000'000LL; };
    const VerdictCache system_trust(&memory, settings, endpoints, now);
    const VerdictCache own_ca(&memory, settings, endpoints, now, " trust=0123");
    REQUIRE(own_ca.store(VerifyMethod::Userinfo, token, CacheHarness::valid(std::nullopt)));
    CHECK(own_ca.find(VerifyMethod::Userinfo, token));
    // Another CA (or none) would not have trusted the server that answered: no shared verdict.
    CHECK_FALSE(system_trust.find(VerifyMethod::Userinfo, token));
    // pam_oauth2d reloaded without that host in allow_hosts: the verdict stays unused.
    memory.admit_only([](std::string_view url) { return url.find("idp.example.com") == std::string_view::npos; });
    CHECK_FALSE(own_ca.find(VerifyMethod::Userinfo, token));
    memory.admit_only([](std::string_view) { return true; });
    CHECK(own_ca.find(VerifyMethod::Userinfo, token));
}
