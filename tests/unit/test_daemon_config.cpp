#include "daemon_config.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <fstream>
#include <set>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

TEST_CASE("pam_oauth2d's keys: one table for parsing, the describe line and --list-options")
{
    const auto listing = nlohmann::json::parse(list_daemon_options_json());
    std::set<std::string> listed;
    for (const auto& key : listing) {
        listed.insert(key.at("name").get<std::string>());
    }
    std::set<std::string> in_table;
    for (const auto& spec : daemon_option_table()) {
        in_table.insert(std::string(spec.name));
    }
    CHECK(listed == in_table);
    CHECK(listed.count("user") == 1);
    CHECK(listing.at(2).at("name") == "max_provider_requests");
    CHECK(listing.at(2).at("default") == "8");

    DaemonConfig config = default_daemon_config();
    config.allow_uids = {0, 65534};
    const std::string described = describe_daemon_config(config);
    for (const auto& name : in_table) {
        INFO(name);
        CHECK(described.find(name + "=") != std::string::npos);
    }
    CHECK(described.find("allow_users=0,65534") != std::string::npos);
    CHECK(described.find("user=pam_oauth2") != std::string::npos);
}

TEST_CASE("pam_oauth2d.conf is read with the project's one line syntax")
{
    const TempDir dir;
    const std::string path = dir.path + "/pam_oauth2d.conf";
    const auto error_of = [&](const std::string& text) {
        std::ofstream(path) << text;
        chmod(path.c_str(), 0644);
        auto result = load_daemon_config(path);
        return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : std::string();
    };
    CHECK(error_of("allow_users = root\n[section]\n") == path + " line 2: expected key = value");
    CHECK(error_of("allow_users = root\nbare\n") == path + " line 2: expected key = value");
    // '#' starts a comment only at the start of a line or after a blank.
    CHECK(error_of("allow_users = root\nmetrics = unix:/run/m#1\n").empty());
    CHECK(error_of("allow_users = root # the superuser\n").empty());
}

TEST_CASE("review 19: cache_bytes bounds the daemon's memory in bytes, 64 MiB unless told")
{
    CHECK(default_daemon_config().cache_bytes == 64L * 1024 * 1024);
    const TempDir dir;
    const std::string path = dir.path + "/pam_oauth2d.conf";
    const auto load = [&](const std::string& text) {
        std::ofstream(path) << "allow_users = root\n" << text;
        chmod(path.c_str(), 0644);
        return load_daemon_config(path);
    };
    const auto small = load("cache_bytes = 1048576\n");
    REQUIRE(std::holds_alternative<DaemonConfig>(small));
    CHECK(std::get<DaemonConfig>(small).cache_bytes == 1048576);
    CHECK(describe_daemon_config(std::get<DaemonConfig>(small)).find("cache_bytes=1048576") != std::string::npos);
    const auto huge = load("cache_bytes = 2000000000000\n");
    REQUIRE(std::holds_alternative<std::string>(huge));
    CHECK(std::get<std::string>(huge).find("line 2: cache_bytes must be a whole number") != std::string::npos);
    CHECK(std::holds_alternative<std::string>(load("cache_bytes = -1\n")));
}
