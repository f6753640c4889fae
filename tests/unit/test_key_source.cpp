#include "fakes.hpp"
#include "jose_testkit.hpp"
#include "key_source.hpp"
#include "memory_store.hpp"
#include "settings.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;
using nlohmann::json;

namespace {

const std::string issuer = "https://idp.example.com/realms/acme";

// The key source with a scripted provider and, unless told otherwise, a real disk cache.
struct KeysHarness {
    TestKey key = make_key("ES256", "ec-1");
    json discovery{{"issuer", issuer}, {"jwks_uri", issuer + "/certs"}};
    std::vector<std::string> fetched;
    bool provider_down = false;
    bool refused_by_policy = false; // as pam_oauth2d's gate answers for a host not in allow_hosts
    TempDir root;
    DiskCache disk = std::get<DiskCache>(DiskCache::open(root.path));
    JwtSettings settings;
    HttpSettings transport;
    long long now = 1'700'000'000;
    FakeHttpClient http{[this](const FakeHttpClient::Seen& seen) {
        fetched.push_back(seen.url);
        if (provider_down) {
            return answer(503, "");
        }
        if (refused_by_policy) {
            HttpResult refused = transport_failure("host idp.example.com is not in pam_oauth2d's allow_hosts");
            refused.refused_by_policy = true;
            return refused;
        }
        if (seen.url == issuer + "/.well-known/openid-configuration") {
            return answer(200, discovery.dump());
        }
        if (seen.url == issuer + "/certs" || seen.url == "https://keys.example.com/jwks") {
            return answer(200, jwks_of({&key}));
        }
        return answer(404, "");
    }};
    std::vector<std::string> logged;
    Logger logger{[this](int, const std::string& line) { logged.push_back(line); }};

    KeySet keys(bool refresh, bool with_cache = true)
    {
        RemoteKeySource source(
            issuer, settings, transport, http, with_cache ? &disk : nullptr, [this] { return now; }, logger);
        return source.keys(refresh);
    }
};

} // namespace

TEST_CASE("keys come through discovery once, then from the disk cache until it is stale")
{
    KeysHarness h;
    const auto first = h.keys(false);
    REQUIRE(first.error.empty());
    REQUIRE(first.keys.size() == 1);
    CHECK(first.keys[0].kid == "ec-1");
    CHECK(h.fetched == std::vector<std::string>{issuer + "/.well-known/openid-configuration", issuer + "/certs"});
    CHECK(h.keys(false).keys.size() == 1);
    CHECK(h.fetched.size() == 2);
    h.now += jwks_cache_seconds;
    CHECK(h.keys(false).error.empty());
    CHECK(h.fetched.size() == 4);
}

TEST_CASE("an unknown kid refreshes at most once per interval, across processes")
{
    KeysHarness h;
    REQUIRE(h.keys(false).error.empty());
    CHECK(h.keys(true).error.empty()); // fetched just now: the refresh is declined
    CHECK(h.fetched.size() == 2);
    h.now += jwks_refresh_interval_seconds;
    CHECK(h.keys(true).error.empty());
    CHECK(h.fetched.size() == 3); // only the JWKS: discovery is still fresh
    CHECK(h.fetched.back() == issuer + "/certs");
}

TEST_CASE("an explicit jwks_url skips discovery; without a cache every call fetches")
{
    KeysHarness h;
    h.settings.jwks_url = "https://keys.example.com/jwks";
    CHECK(h.keys(false, false).keys.size() == 1);
    CHECK(h.keys(false, false).keys.size() == 1);
    CHECK(h.fetched == std::vector<std::string>{"https://keys.example.com/jwks", "https://keys.example.com/jwks"});
}

TEST_CASE("a discovery document must name our issuer and an acceptable jwks_uri")
{
    KeysHarness h;
    h.discovery["issuer"] = "https://evil.example.com";
    CHECK(h.keys(false, false).error == "discovery document does not name issuer " + issuer);
    h.discovery["issuer"] = issuer;
    h.discovery.erase("jwks_uri");
    CHECK(h.keys(false, false).error == "discovery document has no jwks_uri");
    h.discovery["jwks_uri"] = "http://keys.example.com/jwks";
    CHECK(h.keys(false, false).error.find("discovery document's jwks_uri uses http://") == 0);
}

TEST_CASE("an unreachable provider or an unusable JWKS is an error, not an empty key set")
{
    KeysHarness h;
    h.settings.jwks_url = "https://idp.example.com/missing";
    CHECK(h.keys(false, false).error == "JWKS https://idp.example.com/missing answered HTTP 404");
    h.settings.jwks_url = issuer + "/certs";
    h.key.jwk = json{{"kty", "EC"}};
    CHECK(h.keys(false, false).error.find("JWKS " + issuer + "/certs: ") == 0);
}

TEST_CASE("review #9: a JWKS that does not parse is never cached, so a fixed provider is heard at once")
{
    KeysHarness h;
    const TestKey good_key = h.key;
    h.key.jwk = json{{"kty", "RSA"}, {"use", "enc"}}; // the provider serves no usable key, once
    CHECK_FALSE(h.keys(false).error.empty());
    h.key = good_key;
    const auto fixed = h.keys(false);
    CHECK(fixed.error.empty());
    CHECK(fixed.keys.size() == 1);
    CHECK(h.fetched.back() == issuer + "/certs");

    // A copy in the cache that does not parse (damaged on disk) is fetched again, at most every 30 s.
    h.now += jwks_refresh_interval_seconds;
    REQUIRE(h.disk.write("JWKS " + issuer + "/certs", R"({"keys":[]})", h.now));
    const std::size_t before = h.fetched.size();
    CHECK_FALSE(h.keys(false).error.empty());
    CHECK(h.fetched.size() == before);
    h.now += jwks_refresh_interval_seconds;
    CHECK(h.keys(false).error.empty());
    CHECK(h.fetched.size() == before + 1);
}

TEST_CASE("discovery_url: Entra v1 publishes its discovery document away from its issuer")
{
    KeysHarness h;
    // v1 tokens say iss https://sts.windows.net/<tid>/; their metadata lives under login.microsoftonline.com.
    h.settings.discovery_url = issuer + "/.well-known/openid-configuration";
    RemoteKeySource v1(
        "https://sts.windows.net/tenant/", h.settings, h.transport, h.http, nullptr, [&] { return h.now; }, h.logger);
    h.discovery["issuer"] = "https://sts.windows.net/tenant/";
    const auto keys = v1.keys(false);
    CHECK(keys.error.empty());
    CHECK(keys.keys.size() == 1);
    CHECK(h.fetched.front() == issuer + "/.well-known/openid-configuration");
}

TEST_CASE("while the provider fails, a cached key set is used for a bounded time, with a warning")
{
    KeysHarness h;
    REQUIRE(h.keys(false).error.empty());
    h.provider_down = true;
    h.now += jwks_cache_seconds; // stale: fetched again, and the provider answers 503
    const auto stale = h.keys(false);
    CHECK(stale.error.empty());
    CHECK(stale.keys.size() == 1);
    REQUIRE(!h.logged.empty());
    CHECK(h.logged.back().find("while the identity provider fails") != std::string::npos);
    // An unknown kid cannot be served by the old set: the failure is reported.
    CHECK(!h.keys(true).error.empty());
    h.now = 1'700'000'000 + jwks_stale_if_error_seconds;
    CHECK(!h.keys(false).error.empty());
}

TEST_CASE("documents and verdicts can live in memory: bounded, oldest write evicted first")
{
    const MemoryStore store(3);
    CHECK(store.where() == "memory");
    for (int i = 0; i < 5; ++i) {
        REQUIRE(store.write("key " + std::to_string(i), "text " + std::to_string(i), i));
    }
    CHECK(store.size() == 3);
    CHECK(!store.read("key 0", 64));
    CHECK(!store.read("key 1", 64));
    REQUIRE(store.read("key 4", 64));
    CHECK(store.read("key 4", 64)->text == "text 4");
    CHECK(store.read("key 4", 64)->stored_at == 4);
    CHECK(!store.read("key 4", 3)); // larger than the reader accepts
    // Rewriting a key keeps it: only its latest write counts for eviction.
    REQUIRE(store.write("key 2", "again", 9));
    REQUIRE(store.write("key 5", "text 5", 10));
    CHECK(store.read("key 2", 64));
    CHECK(!store.read("key 3", 64));
    CHECK(!MemoryStore(0).write("k", "v", 1));
}

TEST_CASE("a memory store keeps what a reader parsed until the entry is rewritten")
{
    const MemoryStore store(8);
    REQUIRE(store.write("jwks x", "{}", 100));
    CHECK(store.memo("jwks x", 100) == nullptr);
    store.remember("jwks x", 100, std::make_shared<const std::string>("parsed"));
    REQUIRE(store.memo("jwks x", 100) != nullptr);
    CHECK(*std::static_pointer_cast<const std::string>(store.memo("jwks x", 100)) == "parsed");
    CHECK(store.memo("jwks x", 99) == nullptr); // another version of the entry
    REQUIRE(store.write("jwks x", "{\"keys\":[]}", 101));
    CHECK(store.memo("jwks x", 101) == nullptr);
    store.remember("jwks x", 100, std::make_shared<const std::string>("stale")); // too late: ignored
    CHECK(store.memo("jwks x", 101) == nullptr);
    // The disk cache keeps no memo: fresh processes parse anyway.
    const TempDir root;
    const DiskCache disk = std::get<DiskCache>(DiskCache::open(root.path));
    disk.remember("k", 1, std::make_shared<const std::string>("x"));
    CHECK(disk.memo("k", 1) == nullptr);
}

TEST_CASE("keys kept in memory are parsed once, then served from the memo")
{
    KeysHarness h;
    const MemoryStore store(16);
    RemoteKeySource source(
        issuer, h.settings, h.transport, h.http, &store, [&] { return h.now; }, h.logger);
    REQUIRE(source.keys(false).keys.size() == 1);
    h.logger.set_debug(true);
    REQUIRE(source.keys(false).keys.size() == 1);
    CHECK(h.fetched.size() == 2);
    CHECK(std::any_of(h.logged.begin(), h.logged.end(), [](const std::string& line) {
        return line.find("JWKS from cache") != std::string::npos && line.find("parsed") != std::string::npos;
    }));
}

TEST_CASE("review 19 #5: a discovery document remembered in memory is checked for every reader's issuer")
{
    KeysHarness h;
    const MemoryStore store(16);
    RemoteKeySource first(
        issuer, h.settings, h.transport, h.http, &store, [&] { return h.now; }, h.logger);
    REQUIRE(first.keys(false).error.empty());
    REQUIRE(first.keys(false).error.empty()); // the discovery document is now parsed in memory
    CHECK(h.fetched.size() == 2);
    // Another configuration (another issuer) reading the same discovery document: a fresh fetch says
    // it names someone else, and so must the copy in memory.
    JwtSettings other = h.settings;
    other.discovery_url = issuer + "/.well-known/openid-configuration";
    RemoteKeySource second(
        "https://other.example.com", other, h.transport, h.http, &store, [&] { return h.now; }, h.logger);
    const auto refused = second.keys(false);
    CHECK(refused.keys.empty());
    CHECK(refused.error == "discovery document does not name issuer https://other.example.com");
    // The first configuration is not disturbed: still served from memory.
    const std::size_t before = h.fetched.size();
    CHECK(first.keys(false).keys.size() == 1);
    CHECK(h.fetched.size() == before);
}

TEST_CASE("review 19 #6: a refusal by policy is not an outage, and a store's policy is asked on every use")
{
    KeysHarness h;
    REQUIRE(h.keys(false).error.empty());
    h.now += jwks_cache_seconds; // stale: fetched again, and the daemon's gate refuses the host
    h.refused_by_policy = true;
    const auto refused = h.keys(false);
    CHECK(refused.keys.empty());
    CHECK(refused.error.find("is not in pam_oauth2d's allow_hosts") != std::string::npos);
    CHECK(std::none_of(h.logged.begin(), h.logged.end(), [](const std::string& line) {
        return line.find("while the identity provider fails") != std::string::npos;
    }));

    // A fresh copy in memory from a host the store no longer admits is not used either.
    h.refused_by_policy = false;
    MemoryStore store(16);
    RemoteKeySource source(
        issuer, h.settings, h.transport, h.http, &store, [&] { return h.now; }, h.logger);
    REQUIRE(source.keys(false).error.empty());
    const std::size_t before = h.fetched.size();
    store.admit_only([](std::string_view url) { return url.find("idp.example.com") == std::string_view::npos; });
    h.refused_by_policy = true;
    CHECK(!source.keys(false).error.empty());
    CHECK(h.fetched.size() == before + 1);
    store.admit_only(nullptr); // admitted again: the copy in memory serves again
    CHECK(source.keys(false).error.empty());
    CHECK(h.fetched.size() == before + 1);
}

TEST_CASE("review 19 ca_file: a cached document serves only logins under the trust it was fetched with")
{
    KeysHarness h;
    const TempDir certs;
    const std::string ca_a = certs.path + "/a.pem";
    const std::string ca_b = certs.path + "/b.pem";
    const auto write = [](const std::string& path, const std::string& text) {
        std::FILE* file = std::fopen((path + ".new").c_str(), "w");
        REQUIRE(file != nullptr);
        std::fputs(text.c_str(), file);
        std::fclose(file);
        REQUIRE(std::rename((path + ".new").c_str(), path.c_str()) == 0);
    };
    write(ca_a, "CA A");
    write(ca_b, "CA B");
    CHECK(trust_tag(HttpSettings{}).empty()); // the system store: keys as before
    const MemoryStore store(16);
    const auto keys_under = [&](const std::string& ca_file) {
        HttpSettings transport;
        transport.ca_file = ca_file;
        RemoteKeySource source(
            issuer, h.settings, transport, h.http, &store, [&] { return h.now; }, h.logger);
        return source.keys(false);
    };
    REQUIRE(keys_under(ca_a).error.empty());
    REQUIRE(keys_under(ca_a).error.empty());
    CHECK(h.fetched.size() == 2);
    REQUIRE(keys_under(ca_b).error.empty()); // another trust: its own fetch (which TLS would refuse)
    CHECK(h.fetched.size() == 4);
    REQUIRE(keys_under("").error.empty());
    CHECK(h.fetched.size() == 6);
    write(ca_a, "CA A, replaced"); // the same path naming another file is another trust
    REQUIRE(keys_under(ca_a).error.empty());
    CHECK(h.fetched.size() == 8);
    // On disk too: the trust is part of the file's key.
    h.transport.ca_file = ca_b;
    REQUIRE(h.keys(false).error.empty());
    h.transport.ca_file.clear();
    REQUIRE(h.keys(false).error.empty());
    CHECK(h.fetched.size() == 12);
}

TEST_CASE("review 19: the memory store is bounded in bytes, oldest write out first")
{
    // An entry and its write record: two overheads, the 5-byte key "key N" twice, a 100-byte text.
    const std::size_t entry = MemoryStore::overhead_bytes * 2 + 2 * 5 + 100;
    MemoryStore store(100, 3 * entry);
    const std::string text(100, 'x');
    for (int i = 0; i < 5; ++i) {
        REQUIRE(store.write("key " + std::to_string(i), text, i));
    }
    CHECK(store.size() == 3);
    CHECK(store.bytes() <= 3 * entry);
    CHECK(!store.read("key 1", 1000));
    CHECK(store.read("key 2", 1000));
    // A parsed copy is charged as much as its text: remembering one pushes the oldest out.
    store.remember("key 4", 4, std::make_shared<const std::string>("parsed"));
    CHECK(store.memo("key 4", 4) != nullptr);
    CHECK(store.size() == 2);
    CHECK(!store.read("key 2", 1000));
    // A document heavier than the whole bound is not kept, and the copy it replaces is gone too.
    CHECK(!store.write("key 3", std::string(4 * entry, 'y'), 9));
    CHECK(!store.read("key 3", 100000));
    CHECK(store.size() == 1);
    // New limits apply at once.
    REQUIRE(store.write("key 5", text, 10));
    REQUIRE(store.write("key 6", text, 11));
    store.configure(1, 1 << 20);
    CHECK(store.size() == 1);
    CHECK(store.read("key 6", 1000));
    store.configure(100, 1);
    CHECK(store.size() == 0);
    CHECK(store.bytes() == 0);
    store.configure(100, 1 << 20);
    REQUIRE(store.write("key 7", text, 12));
    CHECK(store.size() == 1);
}
