#include "configuration.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

const char* const userinfo = "userinfo_url=https://idp.example.com/userinfo";

std::string error_of(const std::vector<std::string_view>& args)
{
    const auto loaded = load_configuration(args);
    REQUIRE(std::holds_alternative<ConfigError>(loaded));
    return std::get<ConfigError>(loaded).message;
}

// Files that decide who logs in must belong to root, so these cases need root (as the tests run in CI).
struct RootFiles {
    TempDir directory;
    std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) const
    {
        const std::string path = directory.path + "/" + name;
        std::ofstream(path) << text;
        REQUIRE(chmod(path.c_str(), mode) == 0);
        return path;
    }
};

} // namespace

TEST_CASE("arguments alone load into complete settings")
{
    const auto loaded = load_configuration({userinfo, "groups=dba", "timeout=1.5"});
    REQUIRE(std::holds_alternative<Configuration>(loaded));
    const auto& configuration = std::get<Configuration>(loaded);
    CHECK(configuration.settings.endpoints.userinfo_url == "https://idp.example.com/userinfo");
    CHECK(configuration.settings.users.groups == std::vector<std::string>{"dba"});
    CHECK(configuration.settings.http.timeout_ms == 1500);
    CHECK_FALSE(configuration.username_map);
}

TEST_CASE("one configuration error, whichever step finds it")
{
    CHECK(error_of({userinfo, "group=dba"}) == "unknown option 'group'");
    CHECK(error_of({}) == "verify=userinfo needs userinfo_url");
    CHECK(error_of({userinfo, "conf=/nonexistent/pam_oauth2.conf"}).find("cannot open") != std::string::npos);
    CHECK(error_of({userinfo, "conf"}) == "option conf needs a value");
    CHECK(error_of({userinfo, "username_map=/nonexistent/map"}).find("username_map file /nonexistent/map") == 0);
}

TEST_CASE("the conf= file is read first, bracketed or not, and the arguments override it")
{
    if (geteuid() != 0) {
        WARN("needs root: conf files must be owned by root");
        return;
    }
    const RootFiles files;
    const std::string conf = files.write("pam_oauth2.conf", "userinfo_url = https://a.example/u\ntimeout = 3\n");
    for (const std::string& argument : {"conf=" + conf, "[conf=" + conf + "]"}) {
        INFO(argument);
        const auto loaded = load_configuration({argument, "timeout=1"});
        REQUIRE(std::holds_alternative<Configuration>(loaded));
        const auto& settings = std::get<Configuration>(loaded).settings;
        CHECK(settings.endpoints.userinfo_url == "https://a.example/u");
        CHECK(settings.http.timeout_ms == 1000);
        CHECK(settings.conf == conf);
    }
    const std::string writable = files.write("writable.conf", "debug\n", 0620);
    const auto refused = load_configuration({userinfo, "conf=" + writable});
    REQUIRE(std::holds_alternative<ConfigError>(refused));
    CHECK(std::get<ConfigError>(refused).in_file);
    CHECK(std::get<ConfigError>(refused).message.find("must not be group- or world-writable") != std::string::npos);
}

TEST_CASE("the username map is read and compiled by the load, not during a login")
{
    if (geteuid() != 0) {
        WARN("needs root: map files must be owned by root");
        return;
    }
    const RootFiles files;
    const std::string map = files.write("map", "alice@example.com alice\n", 0644);
    const auto loaded = load_configuration({userinfo, "username_map=" + map});
    REQUIRE(std::holds_alternative<Configuration>(loaded));
    const auto& configuration = std::get<Configuration>(loaded);
    REQUIRE(configuration.username_map);
    CHECK(configuration.username_map->maps("alice@example.com", "alice"));

    const std::string broken = files.write("broken", "/(unclosed alice\n", 0644);
    const std::string error = error_of({userinfo, "username_map=" + broken});
    CHECK(error == broken + ": username_map line 1: pattern does not compile");
}

TEST_CASE("review #13: a bracketed or bare conf is treated like every other key")
{
    CHECK(error_of({userinfo, "[conf=/nonexistent/pam_oauth2.conf]"}).find("/nonexistent/pam_oauth2.conf") !=
          std::string::npos);
    CHECK(error_of({userinfo, "conf"}) == "option conf needs a value");
    CHECK(error_of({userinfo, "conf="}) == "option conf needs a value");
}

TEST_CASE("a configuration lists the files it was built from, with their identity when read")
{
    CHECK(std::get<Configuration>(load_configuration({userinfo})).files.empty());
    if (geteuid() != 0) {
        WARN("needs root: conf files must be owned by root");
        return;
    }
    const RootFiles files;
    const std::string map = files.write("users.map", "alice@corp.example alice\n");
    const std::string conf =
        files.write("pam_oauth2.conf", "userinfo_url = https://a.example/u\nusername_map = " + map +
                                           "\nverify = jwt\naudience = db\n"
                                           "[issuer a]\nissuer = https://a.example\n"
                                           "username_map = " +
                                           map + "\n");
    const auto loaded = load_configuration({"conf=" + conf});
    REQUIRE(std::holds_alternative<Configuration>(loaded));
    const auto& read = std::get<Configuration>(loaded).files;
    REQUIRE(read.size() == 2); // the map once, however many sections name it
    CHECK(read[0].path == conf);
    CHECK(read[1].path == map);
    struct stat st {};
    REQUIRE(::stat(conf.c_str(), &st) == 0);
    CHECK(same_file(read[0].identity, FileIdentity{st.st_dev, st.st_ino, st.st_size, st.st_mtim}));
}
