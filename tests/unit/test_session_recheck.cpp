#include "daemon_config.hpp"
#include "fallible.hpp"
#include "metrics.hpp"
#include "session_policy.hpp"
#include "session_recheck.hpp"
#include "session_tracker.hpp"
#include "settings.hpp"
#include "settings_parser.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace pam_oauth2;

namespace {

// A fake clock and /proc, an ender that always succeeds, a rechecker that answers as told.
struct RecheckBench {
    long long now = 1000;
    std::map<pid_t, unsigned long long> processes;
    std::vector<std::string> lines;
    Metrics metrics;
    Logger logger{[this](int, const std::string& line) { lines.push_back(line); }};

    struct Ender : SessionEnder {
        std::vector<TrackedSession> asked;
        Termination end(const TrackedSession& session) override
        {
            asked.push_back(session);
            return Termination{Termination::Ended, ""};
        }
    };
    struct Rechecker : SessionRechecker {
        std::vector<pid_t> asked;
        std::map<pid_t, Recheck> answers; // absent: Valid
        Recheck recheck(const TrackedSession& session) override
        {
            asked.push_back(session.pid);
            const auto found = answers.find(session.pid);
            return found == answers.end() ? Recheck{Recheck::Valid, "token accepted"} : found->second;
        }
    };
    std::shared_ptr<Ender> ender = std::make_shared<Ender>();
    Rechecker rechecker;
    SessionTracker tracker{metrics, logger, [this] { return now; },
                           [this](pid_t pid) -> std::optional<ProcessStart> {
                               const auto found = processes.find(pid);
                               if (found == processes.end()) {
                                   return std::nullopt;
                               }
                               return ProcessStart{found->second, 0};
                           },
                           false};

    RecheckBench()
    {
        tracker.configure(4096, ender);
        tracker.set_rechecker(&rechecker);
    }

    // A tracked opaque-token session re-checked every `every` seconds; `kept` watches its token.
    void track(pid_t pid, long every, std::weak_ptr<const RecheckMaterial>* kept = nullptr)
    {
        processes[pid] = 7000 + static_cast<unsigned long long>(pid);
        TrackedSession s;
        s.pid = pid;
        s.start = ProcessStart{processes[pid], 0};
        s.service = "postgresql";
        s.user = "user" + std::to_string(pid);
        s.identity.issuer = "https://idp";
        s.identity.subject = "sub-" + s.user;
        s.policy.recheck_seconds = every;
        s.logged_in_at = now;
        auto material = std::make_shared<RecheckMaterial>();
        material->token = SecureString("opaque-token-" + std::to_string(pid));
        material->user = s.user;
        if (kept != nullptr) {
            *kept = material;
        }
        s.recheck = std::move(material);
        REQUIRE(tracker.track(std::move(s)));
    }

    std::size_t count_lines(const std::string& part) const
    {
        return static_cast<std::size_t>(std::count_if(
            lines.begin(), lines.end(), [&](const std::string& line) { return line.find(part) != std::string::npos; }));
    }
};

Fallible<Settings> parse_line(std::vector<std::string_view> args)
{
    auto parsed = parse_settings(args, nullptr);
    if (auto* error = std::get_if<ConfigError>(&parsed)) {
        return Failure{error->message};
    }
    return std::get<Settings>(std::move(parsed));
}

} // namespace

TEST_CASE("session_recheck is 0 or 5 to 86400 seconds, unset unless given, and never on a jwt-only line")
{
    const std::string_view userinfo = "userinfo_url=https://idp.example/userinfo";
    auto plain = parse_line({userinfo});
    REQUIRE(plain.ok());
    CHECK_FALSE(plain.value().sessions.recheck_seconds);
    CHECK_FALSE(plain.value().sessions.any());
    for (const auto& [text, seconds] : {std::pair<std::string_view, long>{"session_recheck=0", 0},
                                        {"session_recheck=5", 5},
                                        {"session_recheck=86400", 86400}}) {
        INFO(text);
        auto given = parse_line({userinfo, text});
        REQUIRE(given.ok());
        CHECK(given.value().sessions.recheck_seconds == seconds);
        CHECK(given.value().sessions.any());
    }
    for (const char* bad : {"session_recheck=4", "session_recheck=1", "session_recheck=-1", "session_recheck=86401",
                            "session_recheck=30s", "session_recheck=", "session_recheck"}) {
        INFO(bad);
        auto refused = parse_line({userinfo, bad});
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().find("session_recheck") != std::string::npos);
    }
    // A JWT's signature does not change: asking again would promise a check that never runs.
    const std::vector<std::string_view> jwt{"verify=jwt", "issuer=https://idp.example", "audience=postgres"};
    auto with_recheck = jwt;
    with_recheck.emplace_back("session_recheck=30");
    auto refused = parse_line(with_recheck);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().find("session_recheck needs verify=userinfo or verify=introspect") != std::string::npos);
    auto off = jwt;
    off.emplace_back("session_recheck=0");
    CHECK(parse_line(off).ok());
    auto mixed = jwt;
    mixed.emplace_back("verify=jwt,userinfo");
    mixed.emplace_back(userinfo);
    mixed.emplace_back("session_recheck=30");
    CHECK(parse_line(mixed).ok());
}

TEST_CASE("pam_oauth2d's session_recheck is the default of the lines that do not say, with the same range")
{
    CHECK(default_daemon_config().session_recheck == 0);
    const pam_oauth2::testing::TempDir dir;
    const std::string path = dir.path + "/pam_oauth2d.conf";
    const auto load = [&](const std::string& text) {
        std::ofstream(path) << "allow_users = root\n" << text;
        chmod(path.c_str(), 0644);
        return load_daemon_config(path);
    };
    const auto loaded = load("session_recheck = 60\n");
    REQUIRE(std::holds_alternative<DaemonConfig>(loaded));
    const DaemonConfig& daemon = std::get<DaemonConfig>(loaded);
    CHECK(daemon.session_recheck == 60);
    CHECK(describe_daemon_config(daemon).find("session_recheck=60") != std::string::npos);
    for (const char* bad : {"session_recheck = 4\n", "session_recheck = 86401\n", "session_recheck = x\n"}) {
        INFO(bad);
        const auto refused = load(bad);
        REQUIRE(std::holds_alternative<std::string>(refused));
        CHECK(std::get<std::string>(refused).find("line 2: session_recheck must be") != std::string::npos);
    }
    SessionSettings line;
    CHECK(resolve_session_policy(line, daemon).recheck_seconds == 60);
    CHECK(resolve_session_policy(line, daemon).any()); // re-checks alone are a reason to track
    line.recheck_seconds = 0;
    CHECK(resolve_session_policy(line, daemon).recheck_seconds == 0);
    CHECK_FALSE(resolve_session_policy(line, daemon).any());
    CHECK(std::string(end_reason_name(EndReason::Revoked)) == "revoked");
}

TEST_CASE("a token is re-checked every N seconds, not before; a refusal ends the session as revoked")
{
    RecheckBench bench;
    bench.track(101, 30);
    bench.track(102, 30);
    bench.now = 1029;
    bench.tracker.tick();
    CHECK(bench.rechecker.asked.empty());
    bench.now = 1030;
    bench.tracker.tick();
    CHECK(bench.rechecker.asked == std::vector<pid_t>{101, 102});
    bench.now = 1059;
    bench.tracker.tick();
    CHECK(bench.rechecker.asked.size() == 2); // next at 1060
    bench.rechecker.answers[101] = Recheck{Recheck::Refused, "token is not active"};
    bench.now = 1060;
    bench.tracker.tick();
    REQUIRE(bench.ender->asked.size() == 1); // ended in the same tick
    CHECK(bench.ender->asked.front().pid == 101);
    CHECK(bench.ender->asked.front().ending == EndReason::Revoked);
    CHECK(bench.tracker.size() == 1);
    CHECK(bench.metrics.text().find("pam_oauth2d_sessions_ended_total{reason=\"revoked\"} 1") != std::string::npos);
    CHECK(bench.metrics.text().find("pam_oauth2d_sessions_rechecked_total 4") != std::string::npos);
    CHECK(bench.count_lines("refused the token of the session of pid=101") == 1);
    CHECK(bench.count_lines("(token is not active): ending it") == 1);
    CHECK(bench.count_lines("reason=revoked") == 1);
}

TEST_CASE("a provider that cannot answer keeps the sessions, counted, logged once until it answers again")
{
    RecheckBench bench;
    bench.track(201, 10);
    bench.track(202, 10);
    const Recheck down{Recheck::Unavailable, "identity provider unreachable"};
    bench.rechecker.answers[201] = down;
    bench.rechecker.answers[202] = Recheck{Recheck::Unavailable, "timed out after 2003 ms"}; // reasons vary
    for (long long at : {1010, 1020, 1030}) {
        bench.now = at;
        bench.tracker.tick();
    }
    CHECK(bench.rechecker.asked.size() == 6);
    CHECK(bench.tracker.size() == 2);
    CHECK(bench.ender->asked.empty());
    CHECK(bench.count_lines("cannot re-check the tokens of tracked sessions: ") == 1);
    CHECK(bench.count_lines("cannot re-check the tokens of tracked sessions: identity provider unreachable") == 1);
    CHECK(bench.metrics.text().find("pam_oauth2d_recheck_unavailable_total 6") != std::string::npos);
    bench.rechecker.answers.clear();
    bench.now = 1040;
    bench.tracker.tick();
    CHECK(bench.count_lines("re-checking the tokens of tracked sessions works again") == 1);
    CHECK(bench.tracker.size() == 2);
}

TEST_CASE("at most rechecks_per_tick tokens are asked about per tick, the most overdue first")
{
    RecheckBench bench;
    const std::size_t total = SessionTracker::rechecks_per_tick * 2 + 3;
    for (std::size_t i = 0; i < total; ++i) {
        bench.track(static_cast<pid_t>(300 + i), 5);
    }
    bench.now = 1005;
    bench.tracker.tick();
    CHECK(bench.rechecker.asked.size() == SessionTracker::rechecks_per_tick);
    bench.now = 1006;
    bench.tracker.tick();
    CHECK(bench.rechecker.asked.size() == 2 * SessionTracker::rechecks_per_tick);
    bench.now = 1007;
    bench.tracker.tick();
    CHECK(bench.rechecker.asked.size() == total); // the three left over, not the first ones again
    std::vector<pid_t> asked = bench.rechecker.asked;
    std::sort(asked.begin(), asked.end());
    CHECK(std::adjacent_find(asked.begin(), asked.end()) == asked.end());
}

TEST_CASE("the kept token is released (wiped) when the session is forgotten, refused or replaced")
{
    RecheckBench bench;
    std::weak_ptr<const RecheckMaterial> exited;
    std::weak_ptr<const RecheckMaterial> refused;
    std::weak_ptr<const RecheckMaterial> replaced;
    bench.track(401, 10, &exited);
    bench.track(402, 10, &refused);
    bench.track(403, 10, &replaced);
    CHECK_FALSE(exited.expired());
    CHECK(exited.lock()->token.view() == "opaque-token-401");
    bench.processes.erase(401); // the backend exits
    bench.tracker.tick();
    CHECK(exited.expired());
    // Refused while the ender cannot end it: the session stays due, its token goes at once.
    bench.tracker.configure(4096, nullptr);
    bench.rechecker.answers[402] = Recheck{Recheck::Refused, "token is not active"};
    bench.now = 1010;
    bench.tracker.tick();
    CHECK(bench.tracker.snapshot().count(402) == 1);
    CHECK(refused.expired());
    std::weak_ptr<const RecheckMaterial> newer;
    bench.track(403, 10, &newer); // a new login on the same pid
    CHECK(replaced.expired());
    CHECK_FALSE(newer.expired());
    // A policy without re-checks keeps no token at all.
    std::weak_ptr<const RecheckMaterial> unused;
    bench.track(404, 0, &unused);
    CHECK(unused.expired());
    CHECK_FALSE(bench.tracker.snapshot().at(404).recheck);
}
