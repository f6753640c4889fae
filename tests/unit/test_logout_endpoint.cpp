#include "daemon_config.hpp"
#include "http_request.hpp"
#include "jose_testkit.hpp"
#include "jwks.hpp"
#include "logout_endpoint.hpp"
#include "memory_store.hpp"
#include "signed_out_registry.hpp"
#include "signed_out_store.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <vector>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;
using nlohmann::json;

namespace {

const std::string issuer = "https://idp.example.com";
constexpr long long now = 1'800'000'000LL;

std::string post(const std::string& body, const std::string& type = "application/x-www-form-urlencoded",
                 const std::string& method = "POST")
{
    return method + " /logout HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

int status_of(const std::string& response)
{
    return std::stoi(response.substr(9, 3));
}

struct Endpoint {
    TestKey key = make_key("RS256", "rsa-1");
    std::vector<SignedOut> signed_out;
    std::vector<std::string> lines;
    Metrics metrics;
    Logger logger{[this](int, const std::string& line) { lines.push_back(line); }, false};
    long long clock_ms = 0;
    std::unique_ptr<LogoutEndpoint> endpoint;

    explicit Endpoint(long rate = 100)
    {
        LogoutTokenPolicy policy;
        policy.issuers = {{issuer, "pam-oauth2"}};
        LogoutEndpoint::Dependencies with;
        auto parsed = parse_jwk(key.jwk.dump());
        const Jwk jwk = std::get<Jwk>(parsed);
        with.keys = [jwk](const std::string&, bool) { return KeySet{{jwk}, ""}; };
        with.signed_out = [this](const SignedOut& out) { signed_out.push_back(out); };
        with.metrics = &metrics;
        with.logger = &logger;
        with.now = [] { return now; };
        with.now_ms = [this] { return clock_ms; };
        endpoint = std::make_unique<LogoutEndpoint>(policy, rate, with);
    }
    std::string token(const std::string& jti, const json& extra = json::object())
    {
        json claims{{"iss", issuer}, {"aud", "pam-oauth2"}, {"iat", now - 5},
                    {"jti", jti},    {"sub", "id-alice"},   {"events", {{backchannel_logout_event, json::object()}}}};
        claims.update(extra);
        return make_jwt(key, claims);
    }
    std::string send(const std::string& request) { return endpoint->answer(request, http_request_complete(request)); }
};

} // namespace

TEST_CASE("HTTP heads and form bodies are read strictly")
{
    const auto head = parse_http_head(post("a=b"));
    REQUIRE(head);
    CHECK(head->method == "POST");
    CHECK(head->target == "/logout");
    CHECK(head->headers.at("content-type") == "application/x-www-form-urlencoded");
    CHECK(content_length(*head) == 3u);
    CHECK(http_request_complete(post("a=b")));
    CHECK_FALSE(http_request_complete(post("a=b").substr(0, post("a=b").size() - 1)));
    CHECK_FALSE(parse_http_head("POST /x HTTP/1.1\r\nA: 1\r\nA: 2\r\n\r\n"));
    CHECK_FALSE(parse_http_head("POST /x HTTP/2\r\n\r\n"));
    CHECK_FALSE(parse_http_head("POST /x HTTP/1.1\r\n folded\r\n\r\n"));
    CHECK(form_value("logout_token=a%2Eb+c&x=1", "logout_token") == "a.b c");
    CHECK_FALSE(form_value("logout_token=a&logout_token=b", "logout_token"));
    CHECK_FALSE(form_value("logout_token=%zz", "logout_token"));
    CHECK_FALSE(form_value("other=1", "logout_token"));
}

TEST_CASE("the logout endpoint answers 200 with no-store for a good token and refuses everything else")
{
    Endpoint test;
    const std::string good = test.send(post("logout_token=" + test.token("jti-1")));
    CHECK(status_of(good) == 200);
    CHECK(good.find("Cache-Control: no-store\r\n") != std::string::npos);
    REQUIRE(test.signed_out.size() == 1);
    CHECK(test.signed_out[0].issuer == issuer);
    CHECK(test.signed_out[0].subject == "id-alice");
    CHECK(test.signed_out[0].at == now);
    CHECK(test.metrics.text().find("pam_oauth2d_logout_tokens_accepted_total 1\n") != std::string::npos);

    test.lines.clear();
    const auto refused = [&](const std::string& request) {
        const std::size_t before = test.lines.size();
        const std::string response = test.send(request);
        CHECK(test.lines.size() == before + 1); // one line per refusal
        return status_of(response);
    };
    CHECK(refused(post("logout_token=" + test.token("jti-1"))) == 400); // replay
    CHECK(refused(post("logout_token=" + test.token("jti-2", {{"nonce", "n"}}))) == 400);
    CHECK(refused(post("logout_token=" + test.token("jti-3", {{"aud", "other"}}))) == 400);
    CHECK(refused(post("logout_token=" + test.token("jti-4"), "application/json")) == 400);
    CHECK(refused(post("logout_token=" + test.token("jti-5"), "application/x-www-form-urlencoded", "GET")) == 405);
    CHECK(refused(post("logout_token=" + std::string(20000, 'a'))) == 413);
    CHECK(refused(post("nothing=here")) == 400);
    CHECK(refused("garbage\r\n\r\n") == 400);
    CHECK(test.signed_out.size() == 1); // nothing more signed out
    const std::string body = test.send(post("logout_token=" + test.token("jti-1")));
    CHECK(body.find(R"({"error":"invalid_request")") != std::string::npos);
    const std::string jwt = test.token("jti-1");
    for (const auto& line : test.lines) {
        CHECK(line.find(jwt.substr(jwt.rfind('.') + 1)) == std::string::npos); // never the token
        CHECK(line.find("back-channel logout refused (") == 0);
    }
    const std::string metrics = test.metrics.text();
    CHECK(metrics.find("pam_oauth2d_logout_tokens_refused_total{reason=\"replay\"} 2\n") != std::string::npos);
    CHECK(metrics.find("pam_oauth2d_logout_tokens_refused_total{reason=\"nonce\"} 1\n") != std::string::npos);
    CHECK(metrics.find("pam_oauth2d_logout_tokens_refused_total{reason=\"too_large\"} 1\n") != std::string::npos);
}

TEST_CASE("the logout endpoint's rate limit answers 429 beyond its bucket, which refills with time")
{
    Endpoint test(2);
    CHECK(status_of(test.send(post("logout_token=" + test.token("a")))) == 200);
    CHECK(status_of(test.send(post("logout_token=" + test.token("b")))) == 200);
    CHECK(status_of(test.send(post("logout_token=" + test.token("c")))) == 429);
    test.clock_ms += 500;
    CHECK(status_of(test.send(post("logout_token=" + test.token("c")))) == 200);
}

TEST_CASE("the replay cache is bounded and forgets a jti once its window passed")
{
    ReplayCache cache(3, 100);
    CHECK(cache.first_use(issuer, "a", now));
    CHECK_FALSE(cache.first_use(issuer, "a", now));
    CHECK(cache.first_use("https://other", "a", now)); // jti are per issuer
    CHECK(cache.first_use(issuer, "b", now));
    CHECK(cache.first_use(issuer, "c", now)); // evicts the oldest
    CHECK(cache.first_use(issuer, "a", now));
    CHECK(cache.first_use(issuer, "d", now + 101));
}

TEST_CASE("a verdict cached before its sign-in ended is not used; later ones and other people's are")
{
    MemoryStore memory(100);
    SignedOutRegistry registry;
    long long clock = now;
    const SignedOutStore store(memory, registry, [&] { return clock; });
    const auto verdict = [](const json& claims) { return json{{"claims", claims}}.dump(); };
    REQUIRE(memory.write("verdict userinfo https://idp/userinfo A", verdict({{"sub", "id-alice"}}), now - 10));
    REQUIRE(memory.write("verdict userinfo https://idp/userinfo B", verdict({{"sub", "id-bob"}}), now - 10));
    REQUIRE(memory.write("verdict introspect https://idp/i C",
                         verdict({{"sub", "x"}, {"sid", "sid-1"}, {"iss", "https://elsewhere"}}), now - 10));
    REQUIRE(memory.write("jwks https://idp", R"({"sub":"id-alice"})", now - 10));
    CHECK(store.read("verdict userinfo https://idp/userinfo A", 1000));

    registry.record(SignedOut{issuer, "id-alice", "sid-1", now});
    CHECK_FALSE(store.read("verdict userinfo https://idp/userinfo A", 1000)); // no iss: any issuer
    CHECK(store.read("verdict userinfo https://idp/userinfo B", 1000));
    CHECK(store.read("verdict introspect https://idp/i C", 1000)); // that sid at another issuer
    CHECK(store.read("jwks https://idp", 1000));
    CHECK(store.dropped() == 1);
    // Asked again after the logout: the new verdict is used.
    REQUIRE(memory.write("verdict userinfo https://idp/userinfo A", verdict({{"sub", "id-alice"}}), now + 1));
    CHECK(store.read("verdict userinfo https://idp/userinfo A", 1000));

    registry.record(SignedOut{"https://elsewhere", "", "sid-1", now + 2});
    CHECK_FALSE(store.read("verdict introspect https://idp/i C", 1000));
}

TEST_CASE("a logout one host received reaches another through the shared cache's markers")
{
    MemoryStore fleet(100); // stands for the shared cache both hosts read
    SignedOutRegistry here;
    SignedOutRegistry there;
    long long clock = now;
    SignedOutStore host_a(fleet, here, [&] { return clock; });
    SignedOutStore host_b(fleet, there, [&] { return clock; });
    const SignedOutStore without(fleet, there, [&] { return clock; }); // a host without logout_issuer
    host_a.consult_fleet(true);
    host_b.consult_fleet(true);
    const std::string key = "verdict userinfo https://idp/userinfo A";
    json claims = json::object();
    claims["sub"] = "id-alice";
    REQUIRE(fleet.write(key, json{{"claims", claims}}.dump(), now - 10));
    CHECK(host_b.read(key, 1000)); // looked up: no marker yet
    host_a.mark(SignedOut{issuer, "id-alice", "", now});
    CHECK_FALSE(host_a.read(key, 1000));
    // host B found no marker a moment ago: it looks again only after marker_recheck_seconds.
    CHECK(host_b.read(key, 1000));
    clock += SignedOutStore::marker_recheck_seconds;
    CHECK_FALSE(host_b.read(key, 1000));
    CHECK(without.read(key, 1000)); // never consults the fleet
    CHECK(host_b.ended_at(issuer, "id-alice", "") == now);
    CHECK_FALSE(host_b.ended_at("https://other", "id-alice", ""));
    CHECK_FALSE(host_b.ended_at(issuer, "id-bob", ""));
}

TEST_CASE("the signed-out registry is bounded in entries and in time")
{
    SignedOutRegistry registry(4, 100);
    registry.record(SignedOut{issuer, "a", "", now});
    CHECK(registry.signed_out_at(issuer, "a", "", now) == now);
    CHECK(registry.signed_out_at("", "a", "", now) == now);
    CHECK_FALSE(registry.signed_out_at("https://other", "a", "", now));
    CHECK_FALSE(registry.signed_out_at(issuer, "a", "", now + 101));
    for (int i = 0; i < 10; ++i) {
        registry.record(SignedOut{issuer, "u" + std::to_string(i), "", now});
    }
    CHECK(registry.size() <= 4);
    CHECK(registry.signed_out_at(issuer, "u9", "", now) == now);
}

TEST_CASE("the logout keys: off by default, loopback only, with issuers on allowed hosts")
{
    const DaemonConfig defaults = default_daemon_config();
    CHECK(defaults.logout_listen.empty());
    CHECK(defaults.logout_issuers.empty());
    CHECK(defaults.logout_rate == 10);
    const pam_oauth2::testing::TempDir dir;
    const std::string path = dir.path + "/pam_oauth2d.conf";
    const auto load = [&](const std::string& text) {
        std::ofstream(path) << "allow_users = root\nallow_hosts = idp.example.com\n" << text;
        chmod(path.c_str(), 0644);
        return load_daemon_config(path);
    };
    const auto error_of = [&](const std::string& text) {
        auto result = load(text);
        return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : std::string();
    };
    const auto good = load("logout_listen = 127.0.0.1:9465\nlogout_issuer = https://idp.example.com/r pam\n"
                           "logout_issuer = https://idp.example.com/s other\n");
    REQUIRE(std::holds_alternative<DaemonConfig>(good));
    const auto& config = std::get<DaemonConfig>(good);
    REQUIRE(config.logout_issuers.size() == 2);
    CHECK(config.logout_issuers[1].issuer == "https://idp.example.com/s");
    CHECK(config.logout_issuers[1].client_id == "other");
    CHECK(describe_daemon_config(config).find("logout_listen=127.0.0.1:9465") != std::string::npos);
    CHECK(error_of("logout_listen = 0.0.0.0:9465\n").find("logout_listen must be a loopback") != std::string::npos);
    CHECK(error_of("logout_listen = 127.0.0.1:80\n").find("port 1024 or above") != std::string::npos);
    CHECK(error_of("logout_listen = 127.0.0.1:9465\n").find("no logout_issuer") != std::string::npos);
    CHECK(error_of("logout_issuer = http://idp.example.com pam\n").find("https issuer") != std::string::npos);
    CHECK(error_of("logout_issuer = https://idp.example.com\n").find("one client id") != std::string::npos);
    CHECK(error_of("logout_issuer = https://evil.example.com pam\n").find("not on a host in allow_hosts") !=
          std::string::npos);
    CHECK(error_of("logout_rate = 0\n").find("logout_rate must be a whole number") != std::string::npos);
}
