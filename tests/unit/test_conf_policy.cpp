#include "conf_policy.hpp"
#include "daemon_config.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

TEST_CASE("conf_policy: a client's conf= must name a file below one of conf_dirs")
{
    const std::vector<std::string> dirs{"/etc/pam_oauth2", "/srv/pg/conf"};
    CHECK_FALSE(conf_path_refused(dirs, "/etc/pam_oauth2/postgresql.conf"));
    CHECK_FALSE(conf_path_refused(dirs, "/etc/pam_oauth2/services/pgbouncer.conf"));
    CHECK_FALSE(conf_path_refused(dirs, "/srv/pg/conf/a.conf"));
    // Any file the daemon's user can read, as the review reproduced.
    CHECK(conf_path_refused(dirs, "/etc/shadow"));
    CHECK(conf_path_refused(dirs, "/root/.pgpass"));
    // A shared prefix is not a directory below.
    CHECK(conf_path_refused(dirs, "/etc/pam_oauth2.conf"));
    CHECK(conf_path_refused(dirs, "/etc/pam_oauth2-evil/x.conf"));
    CHECK(conf_path_refused(dirs, "/etc/pam_oauth2"));
    CHECK(conf_path_refused(dirs, "/etc/pam_oauth2/"));
    // The text must say where the file is.
    CHECK(conf_path_refused(dirs, "/etc/pam_oauth2/../shadow"));
    CHECK(conf_path_refused(dirs, "/etc/pam_oauth2/./x.conf"));
    CHECK(conf_path_refused(dirs, "/etc/pam_oauth2//x.conf"));
    CHECK(conf_path_refused(dirs, "/etc/pam_oauth2/x/.."));
    CHECK(conf_path_refused(dirs, "etc/pam_oauth2/x.conf"));
    CHECK(conf_path_refused(dirs, ""));
    CHECK(conf_path_refused({}, "/etc/pam_oauth2/postgresql.conf"));
    CHECK(conf_path_refused(dirs, "/etc/shadow")->find("shadow") == std::string::npos);
}

TEST_CASE("conf_policy: the conf= argument parsing reads, against the daemon's configuration")
{
    DaemonConfig config = default_daemon_config();
    config.path = "/etc/pam_oauth2/pam_oauth2d.conf";
    REQUIRE(config.conf_dirs == std::vector<std::string>{"/etc/pam_oauth2"});
    CHECK_FALSE(refused_conf_argument(config, {"verify=jwt", "issuer=https://idp", "audience=db"}));
    CHECK_FALSE(refused_conf_argument(config, {"conf=/etc/pam_oauth2/postgresql.conf"}));
    CHECK_FALSE(refused_conf_argument(config, {"[conf=/etc/pam_oauth2/with space.conf]"}));
    const auto refused = refused_conf_argument(config, {"conf=/etc/shadow"});
    REQUIRE(refused);
    CHECK_FALSE(refused->in_file);
    CHECK(refused->message == "conf= names a file outside pam_oauth2d's conf_dirs (/etc/pam_oauth2/pam_oauth2d.conf)");
    // The last conf= is the one parsing reads, so it is the one checked.
    CHECK(refused_conf_argument(config, {"conf=/etc/pam_oauth2/a.conf", "conf=/etc/shadow"}));
    CHECK_FALSE(refused_conf_argument(config, {"conf=/etc/shadow", "conf=/etc/pam_oauth2/a.conf"}));
}

TEST_CASE("conf_dirs in pam_oauth2d.conf: absolute directories, or empty for no conf= at all")
{
    const TempDir dir;
    const std::string path = dir.path + "/pam_oauth2d.conf";
    const auto load = [&](const std::string& text) {
        {
            std::ofstream(path) << "allow_users = root\n" << text;
        }
        ::chmod(path.c_str(), 0644);
        return load_daemon_config(path);
    };
    auto loaded = load("conf_dirs = /etc/pam_oauth2/, /srv/pg\n");
    REQUIRE(std::holds_alternative<DaemonConfig>(loaded));
    CHECK(std::get<DaemonConfig>(loaded).conf_dirs == std::vector<std::string>{"/etc/pam_oauth2", "/srv/pg"});
    // Short directories are judged, not read past their end.
    loaded = load("conf_dirs = /a, /b/, /.x\n");
    REQUIRE(std::holds_alternative<DaemonConfig>(loaded));
    CHECK(std::get<DaemonConfig>(loaded).conf_dirs == std::vector<std::string>{"/a", "/b", "/.x"});
    loaded = load("conf_dirs =\n");
    REQUIRE(std::holds_alternative<DaemonConfig>(loaded));
    CHECK(std::get<DaemonConfig>(loaded).conf_dirs.empty());
    for (const char* bad : {"relative", "/", "/.", "/..", "/etc/../root", "/etc/./x", "/etc//x", "/etc/.."}) {
        INFO(bad);
        loaded = load(std::string("conf_dirs = ") + bad + "\n");
        REQUIRE(std::holds_alternative<std::string>(loaded));
        CHECK(std::get<std::string>(loaded).find("conf_dirs takes absolute directories") != std::string::npos);
    }
}
