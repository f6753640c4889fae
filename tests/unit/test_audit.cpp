#include "audit.hpp"
#include "audit_file_sink.hpp"
#include "audit_login.hpp"
#include "audit_syslog_sink.hpp"
#include "configuration.hpp"
#include "daemon_audit.hpp"
#include "daemon_config.hpp"
#include "metrics.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <syslog.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <thread>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

const char* const userinfo = "userinfo_url=https://idp.example.com/userinfo";
const std::string raw_token = "eyJhbGciOiJSUzI1NiJ9.secret-token-body.signature";
const std::string raw_jti = "jti-value-never-logged";

AuditEvent full_event()
{
    AuditEvent event;
    event.event = "login";
    event.time = 1764821958; // 2025-12-04T04:19:18Z
    event.host = "db1";
    event.service = "postgresql";
    event.user = "alice";
    event.result = "granted";
    event.reason = "token accepted";
    event.method = "jwt";
    event.token_fingerprint = token_fingerprint(raw_token);
    event.rhost = "10.0.0.7";
    event.peer_pid = 4242;
    TokenIdentity identity;
    identity.issuer = "https://idp.example.com";
    identity.subject = "alice-id";
    identity.session_id = "sid-1";
    identity.client_id = "psql";
    identity.audience = {"postgres", "api"};
    identity.jti_fingerprint = token_fingerprint(raw_jti);
    identity.expires_at = 1764822000;
    event.identity = identity;
    return event;
}

std::vector<std::string> lines_of(const std::string& path)
{
    std::ifstream file(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) {
        lines.push_back(line);
    }
    return lines;
}

std::string load_error(const std::vector<std::string_view>& args)
{
    const auto loaded = load_configuration(args);
    REQUIRE(std::holds_alternative<ConfigError>(loaded));
    return std::get<ConfigError>(loaded).message;
}

} // namespace

TEST_CASE("audit: an event is one JSON object, every field by its documented name, no token or jti")
{
    const std::string line = format_audit_event(full_event());
    CHECK(line.find('\n') == std::string::npos);
    const auto object = nlohmann::json::parse(line);
    CHECK(object.at("event") == "login");
    CHECK(object.at("time") == "2025-12-04T04:19:18Z");
    CHECK(object.at("epoch") == 1764821958);
    CHECK(object.at("host") == "db1");
    CHECK(object.at("service") == "postgresql");
    CHECK(object.at("user") == "alice");
    CHECK(object.at("result") == "granted");
    CHECK(object.at("reason") == "token accepted");
    CHECK(object.at("method") == "jwt");
    CHECK(object.at("token") == token_fingerprint(raw_token));
    CHECK(object.at("rhost") == "10.0.0.7");
    CHECK(object.at("peer_pid") == 4242);
    CHECK(object.at("iss") == "https://idp.example.com");
    CHECK(object.at("sub") == "alice-id");
    CHECK(object.at("sid") == "sid-1");
    CHECK(object.at("client_id") == "psql");
    CHECK(object.at("aud") == nlohmann::json::array({"postgres", "api"}));
    CHECK(object.at("jti") == token_fingerprint(raw_jti));
    CHECK(object.at("exp") == 1764822000);
    CHECK(object.size() == 19);
    CHECK(line.find(raw_token) == std::string::npos);
    CHECK(line.find("secret-token-body") == std::string::npos);
    CHECK(line.find(raw_jti) == std::string::npos);
    // The documented order, so every line reads alike.
    CHECK(line.rfind(R"({"event":"login","time":)", 0) == 0);
}

TEST_CASE("audit: absent fields are left out, odd bytes cannot break the line")
{
    AuditEvent event;
    event.event = "login";
    event.time = 0;
    event.result = "denied";
    event.reason = "bad \"quote\"\nnext\xff";
    const std::string line = format_audit_event(event);
    CHECK(line.find('\n') == std::string::npos);
    const auto object = nlohmann::json::parse(line);
    CHECK(object.size() == 5); // event, time, epoch, result, reason
    CHECK(object.at("time") == "1970-01-01T00:00:00Z");
    for (const char* absent : {"host", "service", "user", "method", "token", "rhost", "peer_pid", "iss", "sub", "sid",
                               "client_id", "aud", "jti", "exp"}) {
        INFO(absent);
        CHECK_FALSE(object.contains(absent));
    }
    CHECK(object.at("reason").get<std::string>().rfind("bad \"quote\"\nnext", 0) == 0);
}

TEST_CASE("audit: the login event carries the decision line's fields and the identity")
{
    LoginResult result;
    result.record.outcome = Outcome::Unavailable;
    result.record.reason = "identity provider unreachable";
    result.record.user = "bob";
    result.record.method = "none";
    result.record.token_fingerprint = "sha256:0123abcd";
    result.record.rhost = "h";
    const AuditEvent event = login_audit_event(result, "sshd", "host1", 12);
    CHECK(event.event == "login");
    CHECK(event.result == "unavailable");
    CHECK(event.service == "sshd");
    CHECK(event.host == "host1");
    CHECK(event.time == 12);
    CHECK(event.user == "bob");
    CHECK(event.method.empty()); // "none": left out
    CHECK(event.token_fingerprint == "sha256:0123abcd");
    CHECK_FALSE(event.identity);
    CHECK_FALSE(event.peer_pid);
}

TEST_CASE("audit: the file sink appends lines to a file created 0600, reopened on request")
{
    const TempDir dir;
    const std::string path = dir.path + "/audit.log";
    std::ofstream(path) << "earlier line\n";
    chmod(path.c_str(), 0640);
    AuditFileSink sink(path, Logger(nullptr));
    sink.write(full_event());
    sink.reopen();
    sink.write(full_event());
    auto lines = lines_of(path);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "earlier line");
    CHECK(nlohmann::json::parse(lines[2]).at("user") == "alice");
    CHECK(sink.failures() == 0);

    const std::string fresh = dir.path + "/fresh.log";
    AuditFileSink created(fresh, Logger(nullptr));
    created.write(full_event());
    struct stat status {};
    REQUIRE(stat(fresh.c_str(), &status) == 0);
    CHECK((status.st_mode & 07777) == 0600);
}

TEST_CASE("audit: two threads writing many lines leave every line whole")
{
    const TempDir dir;
    const std::string path = dir.path + "/audit.log";
    // One sink shared by threads (the daemon), one of its own per writer (processes).
    AuditFileSink shared(path, Logger(nullptr));
    AuditFileSink own(path, Logger(nullptr));
    constexpr int per_thread = 2000;
    const auto writer = [](AuditFileSink& sink, const std::string& user) {
        AuditEvent event = full_event();
        event.user = user;
        event.reason = std::string(300, 'r'); // lines of some length, so a torn write would show
        for (int i = 0; i < per_thread; ++i) {
            event.peer_pid = i;
            sink.write(event);
        }
    };
    std::thread first(writer, std::ref(shared), "first");
    std::thread second(writer, std::ref(shared), "second");
    std::thread third(writer, std::ref(own), "third");
    first.join();
    second.join();
    third.join();
    const auto lines = lines_of(path);
    REQUIRE(lines.size() == 3 * per_thread);
    std::map<std::string, int> per_user;
    for (const auto& line : lines) {
        const auto object = nlohmann::json::parse(line); // throws on a torn line
        ++per_user[object.at("user").get<std::string>()];
    }
    CHECK(per_user == std::map<std::string, int>{{"first", per_thread}, {"second", per_thread}, {"third", per_thread}});
}

TEST_CASE("audit: a file that cannot be written is counted and reported once, the caller goes on")
{
    const TempDir dir;
    std::vector<std::string> reported;
    const Logger logger([&](int priority, const std::string& line) {
        CHECK(priority == LOG_ERR);
        reported.push_back(line);
    });
    AuditFileSink missing(dir.path + "/no/such/dir/audit.log", logger);
    for (int i = 0; i < 5; ++i) {
        missing.write(full_event());
    }
    CHECK(missing.failures() == 5);
    REQUIRE(reported.size() == 1); // rate-limited: one line a minute
    CHECK(reported[0].find("audit: 1 event(s) not written to " + dir.path + "/no/such/dir/audit.log") == 0);
    CHECK(reported[0].find(raw_token) == std::string::npos);

    // A symlink is never followed, a FIFO never waited on.
    const std::string link = dir.path + "/link.log";
    REQUIRE(symlink((dir.path + "/target.log").c_str(), link.c_str()) == 0);
    AuditFileSink through_link(link, Logger(nullptr));
    through_link.write(full_event());
    CHECK(through_link.failures() == 1);
    struct stat status {};
    CHECK(stat((dir.path + "/target.log").c_str(), &status) != 0);
    const std::string fifo = dir.path + "/fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    AuditFileSink to_fifo(fifo, Logger(nullptr));
    to_fifo.write(full_event());
    CHECK(to_fifo.failures() == 1);
}

namespace {
std::vector<std::pair<int, std::string>> syslogged;
void record_syslog(int priority, const std::string& message)
{
    syslogged.emplace_back(priority, message);
}
} // namespace

TEST_CASE("audit: the syslog sink writes at LOG_AUTHPRIV|LOG_INFO behind a fixed prefix")
{
    syslogged.clear();
    AuditSyslogSink sink(&record_syslog);
    sink.write(full_event());
    REQUIRE(syslogged.size() == 1);
    CHECK(syslogged[0].first == (LOG_AUTHPRIV | LOG_INFO));
    const std::string& message = syslogged[0].second;
    REQUIRE(message.rfind("pam_oauth2 audit: {", 0) == 0);
    CHECK(nlohmann::json::parse(message.substr(std::string(audit_syslog_prefix).size())).at("sub") == "alice-id");
}

TEST_CASE("audit: the module options, off by default, each bad value a configuration error")
{
    const auto loaded = load_configuration({userinfo});
    REQUIRE(std::holds_alternative<Configuration>(loaded));
    CHECK(std::get<Configuration>(loaded).settings.audit.target == AuditTarget::Off);
    const auto file = load_configuration({userinfo, "audit=file", "audit_file=/var/log/pam_oauth2/audit.log"});
    REQUIRE(std::holds_alternative<Configuration>(file));
    CHECK(std::get<Configuration>(file).settings.audit.target == AuditTarget::File);
    CHECK(std::get<Configuration>(file).settings.audit.file == "/var/log/pam_oauth2/audit.log");
    CHECK(load_error({userinfo, "audit=bogus"}) == "option audit must be off, syslog or file");
    CHECK(load_error({userinfo, "audit"}) == "option audit must be off, syslog or file");
    CHECK(load_error({userinfo, "audit=file"}) ==
          "audit=file needs audit_file (the absolute path the events are appended to)");
    CHECK(load_error({userinfo, "audit=file", "audit_file=audit.log"}) == "option audit_file must be an absolute path");
    CHECK(load_error({userinfo, "audit=syslog", "audit_file=/tmp/a"}) == "option audit_file needs audit=file");
}

TEST_CASE("audit: pam_oauth2d's audit key is off, syslog or an absolute path")
{
    const TempDir dir;
    const std::string path = dir.path + "/pam_oauth2d.conf";
    const auto load = [&](const std::string& text) {
        std::ofstream(path) << "allow_users = root\n" << text;
        chmod(path.c_str(), 0644);
        return load_daemon_config(path);
    };
    CHECK(default_daemon_config().audit == "off");
    for (const char* good : {"off", "syslog", "/var/log/pam_oauth2/audit.log"}) {
        const auto loaded = load(std::string("audit = ") + good + "\n");
        REQUIRE(std::holds_alternative<DaemonConfig>(loaded));
        CHECK(std::get<DaemonConfig>(loaded).audit == good);
    }
    for (const char* bad : {"bogus", "audit.log", "file"}) {
        const auto loaded = load(std::string("audit = ") + bad + "\n");
        REQUIRE(std::holds_alternative<std::string>(loaded));
        CHECK(std::get<std::string>(loaded) == path + " line 2: audit must be off, syslog or an absolute file path");
    }
}

TEST_CASE("audit: pam_oauth2d's trail counts failures in its metrics and follows every reload")
{
    const TempDir dir;
    Metrics metrics;
    std::vector<std::string> reported;
    const Logger logger([&](int, const std::string& line) { reported.push_back(line); });
    DaemonAudit audit(logger, metrics);
    CHECK(audit.host() == audit_host_name());
    audit.write(full_event()); // off: nothing, no failure
    audit.configure(dir.path + "/missing/audit.log");
    for (int i = 0; i < 3; ++i) {
        audit.write(full_event());
    }
    CHECK(metrics.text().find("pam_oauth2d_audit_failures_total 3\n") != std::string::npos);
    CHECK(reported.size() == 1);

    const std::string path = dir.path + "/audit.log";
    audit.configure(path);
    audit.write(full_event());
    REQUIRE(rename(path.c_str(), (path + ".1").c_str()) == 0);
    audit.configure(path); // SIGHUP: the path is opened again
    AuditSettings line;
    line.target = AuditTarget::Off;
    audit.write_for_line(full_event(), line); // the daemon's key wins over the line's audit=off
    CHECK(lines_of(path + ".1").size() == 1);
    CHECK(lines_of(path).size() == 1);
    REQUIRE(rename(path.c_str(), (path + ".2").c_str()) == 0);
    audit.reopen(); // SIGHUP with a configuration that did not reload: the same key, the file anew
    audit.write(full_event());
    CHECK(lines_of(path + ".2").size() == 1);
    CHECK(lines_of(path).size() == 1);
    audit.configure("off");
    audit.write(full_event());
    audit.reopen();
    audit.write(full_event());
    CHECK(lines_of(path).size() == 1);
}
