#include "daemon_config.hpp"
#include "metrics.hpp"
#include "process_start.hpp"
#include "session_policy.hpp"
#include "session_terminator.hpp"
#include "session_tracker.hpp"
#include "settings.hpp"
#include "settings_parser.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace pam_oauth2;

namespace {

// A fake clock, a fake /proc (pid -> start ticks), an ender that records and answers as told.
struct Bench {
    long long now = 1000;
    std::map<pid_t, unsigned long long> processes;
    std::vector<std::string> lines;
    Metrics metrics;
    Logger logger{[this](int, const std::string& line) { lines.push_back(line); }};

    struct Ender : SessionEnder {
        std::vector<TrackedSession> asked;
        Termination answer{Termination::Ended, ""};
        Termination end(const TrackedSession& session) override
        {
            asked.push_back(session);
            return answer;
        }
    };
    std::shared_ptr<Ender> ender = std::make_shared<Ender>();
    SessionTracker tracker{metrics, logger, [this] { return now; },
                           [this](pid_t pid) -> std::optional<ProcessStart> {
                               const auto found = processes.find(pid);
                               if (found == processes.end()) {
                                   return std::nullopt;
                               }
                               return ProcessStart{found->second, 0};
                           },
                           false};

    explicit Bench(std::size_t capacity = 16) { tracker.configure(capacity, ender); }

    TrackedSession session(pid_t pid, const std::string& user, SessionPolicy policy, long long exp)
    {
        processes[pid] = 5000 + static_cast<unsigned long long>(pid);
        TrackedSession s;
        s.pid = pid;
        s.start = ProcessStart{processes[pid], 0};
        s.service = "postgresql";
        s.user = user;
        s.identity.issuer = "https://idp";
        s.identity.subject = "sub-" + user;
        s.identity.session_id = "sid-" + user;
        s.identity.expires_at = exp;
        s.policy = policy;
        s.logged_in_at = now;
        return s;
    }
};

SessionPolicy at_expiry(long grace)
{
    SessionPolicy policy;
    policy.end_at_expiry = true;
    policy.grace_seconds = grace;
    return policy;
}

} // namespace

TEST_CASE("the session deadline is exp plus grace, login plus max age, whichever comes first")
{
    SessionPolicy policy = at_expiry(30);
    REQUIRE(session_deadline(policy, 100, 200)->at == 230);
    CHECK(session_deadline(policy, 100, 200)->reason == EndReason::Expiry);
    CHECK_FALSE(session_deadline(policy, 100, std::nullopt)); // no exp: nothing to end it at
    policy.max_age_seconds = 50;
    CHECK(session_deadline(policy, 100, 200)->at == 150);
    CHECK(session_deadline(policy, 100, 200)->reason == EndReason::MaxAge);
    CHECK(session_deadline(policy, 100, std::nullopt)->at == 150);
    policy.end_at_expiry = false;
    policy.max_age_seconds = 0;
    policy.end_on_logout = true;
    CHECK(policy.any());
    CHECK_FALSE(session_deadline(policy, 100, 200));
    CHECK_FALSE(SessionPolicy{}.any());
}

TEST_CASE("a PAM line's session options override pam_oauth2d's defaults one by one")
{
    DaemonConfig daemon = default_daemon_config();
    CHECK_FALSE(resolve_session_policy(SessionSettings{}, daemon).any()); // off by default
    daemon.session_end_at_expiry = true;
    daemon.session_grace = 45;
    SessionSettings line;
    line.max_age_seconds = 600;
    SessionPolicy policy = resolve_session_policy(line, daemon);
    CHECK(policy.end_at_expiry);
    CHECK(policy.grace_seconds == 45);
    CHECK(policy.max_age_seconds == 600);
    line.end_at_expiry = false;
    line.grace_seconds = 0;
    policy = resolve_session_policy(line, daemon);
    CHECK_FALSE(policy.end_at_expiry);
    CHECK(policy.grace_seconds == 0);
}

TEST_CASE("field 22 of /proc/PID/stat is read after the command's last parenthesis")
{
    const std::string tail = " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 19 20 21\n";
    CHECK(parse_stat_start_ticks("42 (postgres)" + tail) == 987654ULL);
    CHECK(parse_stat_start_ticks("42 (a) b (c) 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20)" + tail) ==
          987654ULL);
    CHECK(parse_stat_start_ticks("42 (x y)" + tail) == 987654ULL);
    CHECK_FALSE(parse_stat_start_ticks("42 postgres S 1 2 3"));
    CHECK_FALSE(parse_stat_start_ticks("42 (postgres) S 1 2 3 4 5"));
    CHECK_FALSE(parse_stat_start_ticks("42 (postgres) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -5 1"));
    CHECK(parse_boot_time("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n") == 1700000000LL);
    CHECK_FALSE(parse_boot_time("cpu  1 2 3\n"));
}

TEST_CASE("the start of this process is read from /proc, and a fake /proc's too")
{
    const auto mine = read_process_start(::getpid());
    REQUIRE(mine);
    CHECK(mine->ticks > 0);
    CHECK(mine->wall_seconds > 1.6e9);
    CHECK(mine->wall_seconds <= static_cast<double>(std::time(nullptr)) + 1);
    CHECK(read_process_start(::getpid())->ticks == mine->ticks);

    pam_oauth2::testing::TempDir proc;
    std::ofstream(proc.path + "/stat") << "cpu 1\nbtime 1000\n";
    ::mkdir((proc.path + "/77").c_str(), 0755);
    std::ofstream(proc.path + "/77/stat") << "77 (p) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 500 1\n";
    const auto fake = read_process_start(77, proc.path.c_str());
    REQUIRE(fake);
    CHECK(fake->ticks == 500);
    CHECK(fake->wall_seconds == Approx(1000.0 + 500.0 / static_cast<double>(::sysconf(_SC_CLK_TCK))));
    CHECK_FALSE(read_process_start(78, proc.path.c_str()));
}

TEST_CASE("a session is ended when its deadline passes, not before, and others stay")
{
    Bench bench;
    REQUIRE(bench.tracker.track(bench.session(10, "alice", at_expiry(5), 1020)));
    REQUIRE(bench.tracker.track(bench.session(11, "bob", at_expiry(5), 1100)));
    bench.now = 1024;
    bench.tracker.tick();
    CHECK(bench.ender->asked.empty());
    bench.now = 1025;
    bench.tracker.tick();
    REQUIRE(bench.ender->asked.size() == 1);
    CHECK(bench.ender->asked[0].user == "alice");
    CHECK(*bench.ender->asked[0].ending == EndReason::Expiry);
    CHECK(bench.tracker.size() == 1);
    CHECK(bench.metrics.text().find("pam_oauth2d_sessions_ended_total{reason=\"expiry\"} 1") != std::string::npos);
    CHECK(bench.metrics.text().find("pam_oauth2d_sessions_tracked 1") != std::string::npos);
}

TEST_CASE("a recorded pid whose process start changed is never handed to the ender")
{
    Bench bench;
    REQUIRE(bench.tracker.track(bench.session(10, "alice", at_expiry(0), 1010)));
    bench.processes[10] += 1; // the backend exited, another process got its pid
    bench.now = 2000;
    bench.tracker.tick();
    CHECK(bench.ender->asked.empty());
    CHECK(bench.tracker.size() == 0);
    CHECK(bench.metrics.text().find("pam_oauth2d_sessions_forgotten_total{why=\"pid_reused\"} 1") != std::string::npos);
}

TEST_CASE("an exited backend is forgotten; a new login on a reused pid replaces the stale entry")
{
    Bench bench;
    REQUIRE(bench.tracker.track(bench.session(10, "alice", at_expiry(0), 5000)));
    bench.processes.erase(10);
    bench.tracker.tick();
    CHECK(bench.tracker.size() == 0);
    CHECK(bench.metrics.text().find("why=\"exited\"} 1") != std::string::npos);
    REQUIRE(bench.tracker.track(bench.session(10, "alice", at_expiry(0), 5000)));
    REQUIRE(bench.tracker.track(bench.session(10, "bob", at_expiry(0), 5000)));
    CHECK(bench.tracker.size() == 1);
    CHECK(bench.tracker.snapshot().at(10).user == "bob");
}

TEST_CASE("over max_tracked_sessions a login is not tracked, counted and logged once")
{
    Bench bench(2);
    CHECK(bench.tracker.track(bench.session(1, "a", at_expiry(0), 5000)));
    CHECK(bench.tracker.track(bench.session(2, "b", at_expiry(0), 5000)));
    CHECK_FALSE(bench.tracker.track(bench.session(3, "c", at_expiry(0), 5000)));
    CHECK_FALSE(bench.tracker.track(bench.session(4, "d", at_expiry(0), 5000)));
    CHECK(bench.tracker.size() == 2);
    CHECK(bench.tracker.snapshot().count(1) == 1); // the oldest stay under their policy
    CHECK(bench.metrics.text().find("pam_oauth2d_sessions_untracked_total 2") != std::string::npos);
    CHECK(std::count_if(bench.lines.begin(), bench.lines.end(), [](const std::string& line) {
              return line.find("max_tracked_sessions=2") != std::string::npos;
          }) == 1);
}

TEST_CASE("a signed-out sign-in ends the sessions of its issuer and sub or sid whose policy says so")
{
    Bench bench;
    SessionPolicy on_logout;
    on_logout.end_on_logout = true;
    REQUIRE(bench.tracker.track(bench.session(1, "alice", on_logout, 5000)));
    REQUIRE(
        bench.tracker.track(bench.session(2, "alice", SessionPolicy{on_logout.end_at_expiry, 0, 600, false}, 5000)));
    REQUIRE(bench.tracker.track(bench.session(3, "bob", on_logout, 5000)));
    CHECK(bench.tracker.end_signed_out({"https://other", "sub-alice", "", 0}) == 0);
    CHECK(bench.tracker.end_signed_out({"https://idp", "", "", 0}) == 0); // names nobody
    CHECK(bench.tracker.end_signed_out({"https://idp", "sub-alice", "sid-bob", 0}) == 0);
    CHECK(bench.tracker.end_signed_out({"https://idp", "", "sid-alice", 0}) == 1);
    bench.tracker.tick();
    REQUIRE(bench.ender->asked.size() == 1);
    CHECK(bench.ender->asked[0].pid == 1);
    CHECK(*bench.ender->asked[0].ending == EndReason::Logout);
    CHECK(bench.tracker.end_signed_out({"https://idp", "sub-bob", "", 0}) == 1);

    // A token without sid: any logout of its sub ends it; a logout naming only a sid cannot.
    TrackedSession no_sid = bench.session(4, "carol", on_logout, 5000);
    no_sid.identity.session_id.clear();
    REQUIRE(bench.tracker.track(no_sid));
    CHECK(bench.tracker.end_signed_out({"https://idp", "", "sid-carol", 0}) == 0);
    CHECK(bench.tracker.end_signed_out({"https://idp", "sub-dave", "sid-carol", 0}) == 0);
    CHECK(bench.tracker.end_signed_out({"https://idp", "sub-carol", "sid-whatever", 0}) == 1);
}

TEST_CASE("a failing ender is counted, logged once per problem, and retried after a growing pause")
{
    Bench bench;
    bench.ender->answer = {Termination::Failed, "cannot connect to PostgreSQL: refused"};
    REQUIRE(bench.tracker.track(bench.session(10, "alice", at_expiry(0), 1000)));
    bench.tracker.tick();
    CHECK(bench.ender->asked.size() == 1);
    bench.tracker.tick(); // within the pause: no attempt
    CHECK(bench.ender->asked.size() == 1);
    bench.now += 1;
    bench.tracker.tick();
    CHECK(bench.ender->asked.size() == 2);
    bench.now += 1; // the pause is 2 s now
    bench.tracker.tick();
    CHECK(bench.ender->asked.size() == 2);
    bench.now += 1;
    bench.tracker.tick();
    CHECK(bench.ender->asked.size() == 3);
    const auto logged = [&](const std::string& part) {
        return std::count_if(bench.lines.begin(), bench.lines.end(),
                             [&](const std::string& line) { return line.find(part) != std::string::npos; });
    };
    CHECK(logged("cannot end sessions: cannot connect") == 1);
    CHECK(bench.metrics.text().find("pam_oauth2d_session_termination_failures_total 3") != std::string::npos);
    bench.ender->answer = {Termination::Ended, ""};
    bench.now += 10;
    bench.tracker.tick();
    CHECK(bench.tracker.size() == 0);
    CHECK(logged("ending sessions works again") == 1);
}

TEST_CASE("without a conninfo file every attempt fails, counted, the session kept")
{
    Bench bench;
    bench.tracker.configure(16, nullptr);
    REQUIRE(bench.tracker.track(bench.session(10, "alice", at_expiry(0), 1000)));
    bench.tracker.tick();
    CHECK(bench.tracker.size() == 1);
    CHECK(bench.metrics.text().find("pam_oauth2d_session_termination_failures_total 1") != std::string::npos);
}

TEST_CASE("the statement checks pid, user and start together, with bound parameters")
{
    const std::string statement = terminate_statement;
    CHECK(statement.find("pg_terminate_backend(pid)") != std::string::npos);
    CHECK(statement.find("pid = $1") != std::string::npos);
    CHECK(statement.find("usename = $2") != std::string::npos);
    CHECK(statement.find("backend_start) - $3") != std::string::npos);
}

TEST_CASE("session options stay unset unless given, and bad values are configuration errors")
{
    const auto parse = [](std::vector<std::string_view> args) {
        args.insert(args.begin(), "userinfo_url=https://idp.example/userinfo");
        return parse_settings(args, nullptr);
    };
    auto plain = parse({});
    REQUIRE(std::holds_alternative<Settings>(plain));
    CHECK_FALSE(std::get<Settings>(plain).sessions.any());
    auto given =
        parse({"session_end_at_expiry", "session_grace=0", "session_max_age=28800", "session_end_on_logout=no"});
    REQUIRE(std::holds_alternative<Settings>(given));
    const SessionSettings& sessions = std::get<Settings>(given).sessions;
    CHECK(sessions.end_at_expiry == true);
    CHECK(sessions.grace_seconds == 0L);
    CHECK(sessions.max_age_seconds == 28800L);
    CHECK(sessions.end_on_logout == false);
    for (const char* bad : {"session_grace=-1", "session_grace=86401", "session_max_age=8h",
                            "session_grace=", "session_end_at_expiry=maybe", "session_max_age=31536001"}) {
        INFO(bad);
        CHECK(std::holds_alternative<ConfigError>(parse({bad})));
    }
}

TEST_CASE("the conninfo file is one line that only its owner may read")
{
    pam_oauth2::testing::TempDir dir;
    const auto write = [&](const std::string& name, const std::string& text, mode_t mode) {
        const std::string path = dir.path + "/" + name;
        std::ofstream(path) << text;
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        return path;
    };
    const uid_t me = ::geteuid();
    auto good = read_conninfo_file(write("good", "host=127.0.0.1 user=terminator password=x\n", 0400), me);
    REQUIRE(good.ok());
    CHECK(good.value().view() == "host=127.0.0.1 user=terminator password=x");
    auto readable = read_conninfo_file(write("readable", "host=127.0.0.1\n", 0644), me);
    REQUIRE_FALSE(readable.ok());
    CHECK(readable.error().find("must not be readable by group or others") != std::string::npos);
    CHECK(readable.error().find("host=") == std::string::npos); // the content is never echoed
    CHECK_FALSE(read_conninfo_file(write("two", "host=a\nhost=b\n", 0400), me).ok());
    CHECK_FALSE(read_conninfo_file(write("empty", "\n", 0400), me).ok());
    CHECK_FALSE(read_conninfo_file(dir.path + "/absent", me).ok());
    CHECK_FALSE(read_conninfo_file(write("writable", "host=a\n", 0620), me).ok());
}
