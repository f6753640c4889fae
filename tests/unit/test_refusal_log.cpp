#include "refusal_log.hpp"

#include <catch2/catch.hpp>

#include <syslog.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace pam_oauth2;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand, and the lines written.
struct Bench {
    std::chrono::steady_clock::time_point now{};
    std::vector<std::string> lines;
    Logger logger{[this](int priority, const std::string& line) {
        CHECK(priority == LOG_WARNING);
        lines.push_back(line);
    }};
    RefusalLog::Clock clock()
    {
        return [this] { return now; };
    }
};

std::size_t count_with(const std::vector<std::string>& lines, const std::string& part)
{
    return static_cast<std::size_t>(std::count_if(
        lines.begin(), lines.end(), [&](const std::string& l) { return l.find(part) != std::string::npos; }));
}

} // namespace

TEST_CASE("the first refusal of a uid is logged at once, later ones are summarised after the interval")
{
    Bench bench;
    RefusalLog log(bench.logger, bench.clock());
    log.refused(1000, "not in allow_users", "peer uid=1000 pid=1: refused, uid not in allow_users");
    REQUIRE(bench.lines == std::vector<std::string>{"peer uid=1000 pid=1: refused, uid not in allow_users"});
    for (int i = 0; i < 1999; ++i) {
        bench.now += 10ms;
        log.refused(1000, "not in allow_users", "peer uid=1000 pid=2: refused, uid not in allow_users");
    }
    log.tick();
    CHECK(bench.lines.size() == 1); // 20 s in: still counting
    bench.now += 41s;
    log.tick();
    REQUIRE(bench.lines.size() == 2);
    CHECK(bench.lines[1] == "2000 connections of uid 1000 refused in the last 60 s (not in allow_users)");
    // A new interval: the next refusal is logged at once again.
    bench.now += 1s;
    log.refused(1000, "not in allow_users", "again");
    CHECK(bench.lines.back() == "again");
}

TEST_CASE("a uid refused once in an interval gets no summary")
{
    Bench bench;
    RefusalLog log(bench.logger, bench.clock());
    log.refused(7, "protocol error", "one");
    bench.now += 61s;
    log.tick();
    CHECK(bench.lines == std::vector<std::string>{"one"});
}

TEST_CASE("uids and reasons are counted apart")
{
    Bench bench;
    RefusalLog log(bench.logger, bench.clock());
    for (int i = 0; i < 3; ++i) {
        log.refused(1, "not in allow_users", "uid 1 not allowed");
        log.refused(2, "not in allow_users", "uid 2 not allowed");
        log.refused(1, "protocol error", "uid 1 protocol");
    }
    CHECK(bench.lines.size() == 3);
    bench.now += 60s;
    log.tick();
    CHECK(count_with(bench.lines, "3 connections of uid 1 refused in the last 60 s (not in allow_users)") == 1);
    CHECK(count_with(bench.lines, "3 connections of uid 2 refused in the last 60 s (not in allow_users)") == 1);
    CHECK(count_with(bench.lines, "3 connections of uid 1 refused in the last 60 s (protocol error)") == 1);
}

TEST_CASE("lines per interval are capped however many uids are refused")
{
    Bench bench;
    RefusalLog::Limits limits;
    limits.lines_per_interval = 5;
    limits.uids_tracked = 50;
    RefusalLog log(bench.logger, bench.clock(), limits);
    for (uid_t uid = 0; uid < 200; ++uid) {
        for (int i = 0; i < 10; ++i) {
            log.refused(uid, "not in allow_users", "uid " + std::to_string(uid));
        }
    }
    CHECK(bench.lines.size() == 5); // at once: the first five uids only
    bench.now += 60s;
    log.tick();
    // Five summaries, and one line for the rest, whose count covers every other connection.
    REQUIRE(bench.lines.size() == 11);
    CHECK(bench.lines.back() == "1950 connections of at least 46 more uids or reasons refused in the last 60 s");
}

TEST_CASE("what is still counted is written when the log goes away")
{
    Bench bench;
    {
        RefusalLog log(bench.logger, bench.clock());
        log.refused(5, "not in allow_users", "first");
        bench.now += 3s;
        log.refused(5, "not in allow_users", "second");
    }
    CHECK(bench.lines ==
          std::vector<std::string>{"first", "2 connections of uid 5 refused in the last 3 s (not in allow_users)"});
}

TEST_CASE("a refusal never throws, even when the sink does")
{
    std::chrono::steady_clock::time_point now{};
    const Logger throwing([](int, const std::string&) { throw std::runtime_error("sink down"); });
    RefusalLog log(throwing, [&] { return now; });
    CHECK_NOTHROW(log.refused(1, "not in allow_users", "x"));
    CHECK_NOTHROW(log.refused(1, "not in allow_users", "x"));
    now += 60s;
    CHECK_NOTHROW(log.tick());
}
