// The C front reads broker, broker_fallback and log itself, before the verifier sees the arguments:
// it must read them exactly as the option table does, or a line the table refuses could send a login
// to a daemon (or the table accept a line the front refuses).
#include "front_options.h"
#include "settings_parser.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace pam_oauth2;

namespace {

struct Reading {
    bool accepted = false;
    std::string socket; // "" when verifying in-process
    std::string fallback;
    bool log_stderr = false;
};

Reading through_front(const std::vector<std::string>& args)
{
    std::vector<const char*> argv;
    for (const auto& arg : args) {
        argv.push_back(arg.c_str());
    }
    front_options options{};
    char why[300] = "";
    Reading read;
    read.accepted = front_parse_options(static_cast<int>(argv.size()), argv.data(), &options, why, sizeof why) == 0;
    if (read.accepted) {
        read.socket = options.socket_path != nullptr ? options.socket_path : "";
        read.fallback = options.fallback == fallback_deny ? "deny" : "local";
        read.log_stderr = options.log_stderr != 0;
    }
    return read;
}

Reading through_table(const std::vector<std::string>& args)
{
    std::vector<std::string_view> argv{"userinfo_url=https://idp.example.com/userinfo"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto parsed = parse_settings(argv, nullptr);
    Reading read;
    read.accepted = std::holds_alternative<Settings>(parsed);
    if (read.accepted) {
        const auto& settings = std::get<Settings>(parsed);
        read.socket = settings.broker.socket;
        read.fallback = settings.broker.fallback;
        read.log_stderr = settings.log.target == LogTarget::Stderr;
    }
    return read;
}

} // namespace

TEST_CASE("the C front reads broker, broker_fallback and log as the option table does")
{
    const std::vector<std::vector<std::string>> lines{
        {},
        {"broker"},
        {"broker=/run/other.sock"},
        {"[broker=/run/with space.sock]"},
        {"broker="},
        {"broker=relative.sock"},
        {"broker=/a.sock", "broker"},
        {"broker", "broker_fallback=deny"},
        {"broker", "broker_fallback=local"},
        {"broker_fallback"},
        {"broker_fallback="},
        {"broker_fallback=maybe"},
        {"broker_fallback=deny", "broker_fallback=local"},
        {"log=stderr"},
        {"log=syslog"},
        {"log=stderr", "log=syslog"},
        {"log=syslog", "log=stderr"},
        {"[log=stderr]"},
        {"log"},
        {"log="},
        {"log=journal"},
        {"log=STDERR"},
        {"broker", "log=stderr", "broker_fallback=deny", "debug"},
    };
    for (const auto& line : lines) {
        std::string shown;
        for (const auto& arg : line) {
            shown += arg + " ";
        }
        INFO("arguments: " << shown);
        const Reading front = through_front(line);
        const Reading table = through_table(line);
        CHECK(front.accepted == table.accepted);
        CHECK(front.socket == table.socket);
        CHECK(front.fallback == table.fallback);
        CHECK(front.log_stderr == table.log_stderr);
    }
}

TEST_CASE("the front's own lines follow log= among the arguments, never a conf= file")
{
    // The front reads no file: with log=stderr only in the conf= file, its own lines (a verifier that
    // cannot be loaded, a daemon that cannot be reached) go to syslog; the verifier's and the
    // daemon's lines follow the file.
    const Reading front = through_front({"conf=/etc/security/pam_oauth2.conf", "broker"});
    CHECK(front.accepted);
    CHECK_FALSE(front.log_stderr);
    CHECK(through_front({"conf=/etc/security/pam_oauth2.conf", "log=stderr"}).log_stderr);
}
