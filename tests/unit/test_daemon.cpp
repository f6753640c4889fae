#include "daemon_config.hpp"
#include "flights.hpp"
#include "temp_dir.hpp"
#include "url_policy.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;
using namespace std::chrono_literals;

namespace {

std::string write_file(const TempDir& dir, const std::string& text, mode_t mode = 0644)
{
    const std::string path = dir.path + "/pam_oauth2d.conf";
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
}

Decision decision_of(Outcome outcome, const std::string& reason)
{
    Decision decision;
    decision.outcome = outcome;
    decision.reason = reason;
    return decision;
}

} // namespace

TEST_CASE("url_host reads the host and port of endpoint URLs only")
{
    CHECK(url_host("https://IdP.Example.com/realms/x")->host == "idp.example.com");
    CHECK(url_host("https://idp.example.com:8443/x")->port == "8443");
    CHECK(url_host("https://idp.example.com/x")->port.empty());
    CHECK(url_host("https://idp.example.com/x")->effective_port == "443");
    CHECK(url_host("http://127.0.0.1/x")->effective_port == "80");
    CHECK(url_host("https://idp.example.com:8443/x")->effective_port == "8443");
    CHECK(url_host("https://[::1]:9/x")->host == "::1");
    CHECK(url_host("http://127.0.0.1:8080/userinfo")->port == "8080");
    CHECK(!url_host("ftp://idp.example.com/"));
    CHECK(!url_host("https://user@idp.example.com/"));
}

TEST_CASE("allow_hosts matches hosts, and ports when an entry names one")
{
    const std::vector<std::string> allowed{"idp.example.com", "127.0.0.1:8080", "[::1]"};
    CHECK(host_allowed(allowed, "https://idp.example.com/realms/x/protocol/openid-connect/userinfo"));
    CHECK(host_allowed(allowed, "https://IDP.example.com:443/x"));
    CHECK(host_allowed(allowed, "http://127.0.0.1:8080/userinfo"));
    CHECK(!host_allowed(allowed, "http://127.0.0.1:8081/userinfo"));
    // A host-only entry is port 443 (the https default); before, "[::1]" admitted every port of ::1.
    CHECK(!host_allowed(allowed, "http://[::1]:5556/x"));
    CHECK(host_allowed(allowed, "https://[::1]/x"));
    CHECK(host_allowed({"[::1]:5556"}, "http://[::1]:5556/x"));
    CHECK(!host_allowed(allowed, "https://idp.example.com.evil.test/x"));
    CHECK(!host_allowed(allowed, "https://evil.test/?idp.example.com"));
    CHECK(!host_allowed({}, "https://idp.example.com/"));
}

TEST_CASE("a host-only allow_hosts entry admits port 443 only, never a peer's own port on that host")
{
    const std::vector<std::string> allowed{"idp.example.com", "127.0.0.1"};
    CHECK(host_allowed(allowed, "https://idp.example.com/introspect"));
    CHECK(host_allowed(allowed, "https://idp.example.com:443/introspect"));
    CHECK(!host_allowed(allowed, "https://idp.example.com:8443/introspect"));
    CHECK(!host_allowed(allowed, "http://127.0.0.1:45678/introspect"));
    CHECK(!host_allowed(allowed, "http://127.0.0.1/introspect")); // http's port 80 is not 443 either
    CHECK(host_allowed({"127.0.0.1:80"}, "http://127.0.0.1/introspect"));
    CHECK(host_allowed({"idp.example.com:8443"}, "https://idp.example.com:8443/x"));
    CHECK(!host_allowed({"idp.example.com:8443"}, "https://idp.example.com/x"));
}

TEST_CASE("allow_hosts entries are host or host:port with a real port")
{
    const TempDir dir;
    const auto error_of = [&](const std::string& hosts) {
        auto result = load_daemon_config(write_file(dir, "allow_users = root\nallow_hosts = " + hosts + "\n"));
        return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : std::string();
    };
    CHECK(error_of("idp.example.com, 127.0.0.1:8080, [::1], [::1]:9").empty());
    for (const auto* bad : {"idp:", "idp:0", "idp:65536", "idp:https", "[::1", "[::1]x", "[::1]:", "[]:9"}) {
        INFO(bad);
        CHECK(error_of(bad).find("port from 1 to 65535") != std::string::npos);
    }
}

TEST_CASE("the daemon configuration: keys, limits, users and the file's safety")
{
    const TempDir dir;
    auto loaded = load_daemon_config(write_file(dir, "# comment\nallow_users = root, 65534\nallow_hosts = "
                                                     "IdP.example.com\nmax_provider_requests = 3 # inline\n"
                                                     "negative_cache = 0\nmetrics = 127.0.0.1:9464\n"));
    REQUIRE(std::holds_alternative<DaemonConfig>(loaded));
    const auto& config = std::get<DaemonConfig>(loaded);
    CHECK(config.allow_uids == std::vector<uid_t>{0, 65534});
    CHECK(config.allow_hosts == std::vector<std::string>{"idp.example.com"});
    CHECK(config.max_provider_requests == 3);
    CHECK(config.negative_cache_seconds == 0);
    CHECK(config.socket == "/run/pam_oauth2/pam_oauth2d.sock");
    CHECK(describe_daemon_config(config).find("metrics=127.0.0.1:9464") != std::string::npos);

    const auto error_of = [&](const std::string& text, mode_t mode = 0644) {
        auto result = load_daemon_config(write_file(dir, text, mode));
        return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : std::string();
    };
    CHECK(error_of("allow_hosts = x\n").find("allow_users is empty") != std::string::npos);
    CHECK(error_of("allow_users = no-such-user-here\n").find("unknown user") != std::string::npos);
    CHECK(error_of("allow_users = root\nbogus = 1\n").find("line 2 is not a known pam_oauth2d option") !=
          std::string::npos);
    // The file's content is never echoed: only its name and the line's number.
    const std::string unknown = error_of("allow_users = root\npassword = hunter2\n");
    CHECK(unknown.find(" line 2 is not a known pam_oauth2d option") != std::string::npos);
    CHECK(unknown.find("hunter2") == std::string::npos);
    CHECK(unknown.find("password") == std::string::npos);
    const std::string shadow = error_of("allow_users = root\nroot:$6$S3CRETHASH:19000\n");
    CHECK(shadow.find(" line 2: expected key = value") != std::string::npos);
    CHECK(shadow.find("S3CRET") == std::string::npos);
    CHECK(error_of("allow_users = s3cr3t-user\n").find("s3cr3t") == std::string::npos);
    CHECK(error_of("allow_users = root\nallow_hosts = https://s3cr3t/\n").find("s3cr3t") == std::string::npos);
    CHECK(error_of("allow_users = root\nmax_clients = 0\n").find("whole number from 1") != std::string::npos);
    CHECK(error_of("allow_users = root\nallow_hosts = https://idp/\n").find("not URLs") != std::string::npos);
    CHECK(error_of("allow_users = root\nmetrics = 10.0.0.1:9100\n").find("loopback") != std::string::npos);
    CHECK(error_of("allow_users = root\nsocket = relative\n").find("absolute") != std::string::npos);
    CHECK(error_of("allow_users = root\n", 0666).find("writable") != std::string::npos);
}

TEST_CASE("flights: one computation per key however many wait, refusals remembered")
{
    Metrics metrics;
    Flights flights(metrics);
    std::atomic<int> runs{0};
    const auto slow_grant = [&] {
        ++runs;
        std::this_thread::sleep_for(200ms);
        return decision_of(Outcome::Granted, "token accepted");
    };
    std::vector<std::thread> waiters;
    std::atomic<int> granted{0};
    for (int i = 0; i < 20; ++i) {
        waiters.emplace_back([&] {
            const auto decision = flights.decide("key", slow_grant, 5000ms, 5);
            if (decision && decision->outcome == Outcome::Granted) {
                ++granted;
            }
        });
    }
    for (auto& waiter : waiters) {
        waiter.join();
    }
    CHECK(runs == 1);
    CHECK(granted == 20);
    CHECK(metrics.text().find("pam_oauth2d_coalesced_total 19") != std::string::npos);

    // A grant is not remembered here (the verdict cache does that, bounded by exp): it runs again.
    CHECK(flights.decide("key", slow_grant, 5000ms, 5)->outcome == Outcome::Granted);
    CHECK(runs == 2);

    const auto refuse = [&] {
        ++runs;
        return decision_of(Outcome::Denied, "token refused");
    };
    CHECK(flights.decide("bad", refuse, 5000ms, 5)->reason == "token refused");
    CHECK(flights.decide("bad", refuse, 5000ms, 5)->reason == "token refused (remembered)");
    CHECK(runs == 3);
    CHECK(flights.decide("other", refuse, 5000ms, 0)->outcome == Outcome::Denied);
    CHECK(flights.decide("other", refuse, 5000ms, 0)->reason == "token refused"); // negative_cache = 0
    CHECK(runs == 5);
    // Unavailable is never remembered: the next login asks again.
    const auto down = [&] {
        ++runs;
        return decision_of(Outcome::Unavailable, "provider down");
    };
    flights.decide("down", down, 5000ms, 5);
    flights.decide("down", down, 5000ms, 5);
    CHECK(runs == 7);
}

TEST_CASE("flights: a waiter gives up at its budget, and exceptions become decisions")
{
    Metrics metrics;
    Flights flights(metrics);
    const auto hung_work = [] {
        std::this_thread::sleep_for(1500ms);
        return decision_of(Outcome::Granted, "late");
    };
    // The leader runs the work on its own thread (the provider gate bounds it in the daemon); a login
    // that joins it waits no longer than its own budget.
    std::thread leader([&] { flights.decide("hung", hung_work, 5000ms, 5); });
    std::this_thread::sleep_for(100ms);
    const auto started = std::chrono::steady_clock::now();
    const auto hung = flights.decide("hung", hung_work, 100ms, 5);
    CHECK(!hung);
    CHECK(std::chrono::steady_clock::now() - started < 1000ms);
    const auto thrown = flights.decide(
        "throws", []() -> Decision { throw std::runtime_error("boom"); }, 5000ms, 5);
    REQUIRE(thrown);
    CHECK(thrown->outcome == Outcome::InternalError);
    leader.join();
    // No entry outlives its flight, whatever the work did: both keys run again.
    std::atomic<int> runs{0};
    const auto counted = [&] {
        ++runs;
        return decision_of(Outcome::Granted, "ok");
    };
    flights.decide("hung", counted, 5000ms, 5);
    flights.decide("throws", counted, 5000ms, 5);
    CHECK(runs == 2);
    CHECK(metrics.text().find("pam_oauth2d_verifications_in_flight 0") != std::string::npos);
}
