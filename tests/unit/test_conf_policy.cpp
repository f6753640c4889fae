#include "conf_policy.hpp"
#include "daemon_config.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

// pam_oauth2d.conf with allow_users = root and `text`, loaded.
std::variant<DaemonConfig, std::string> load_daemon_text(const TempDir& dir, const std::string& text)
{
    const std::string path = dir.path + "/pam_oauth2d.conf";
    {
        std::ofstream(path) << "allow_users = root\n" << text;
    }
    ::chmod(path.c_str(), 0644);
    return load_daemon_config(path);
}

} // namespace

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
    config.conf_users = {{"/etc/pam_oauth2/", {0}}}; // every file of the directory bound to root
    CHECK_FALSE(refused_conf_argument(config, {"verify=jwt", "issuer=https://idp", "audience=db"}, 0));
    CHECK_FALSE(refused_conf_argument(config, {"conf=/etc/pam_oauth2/postgresql.conf"}, 0));
    CHECK_FALSE(refused_conf_argument(config, {"[conf=/etc/pam_oauth2/with space.conf]"}, 0));
    const auto refused = refused_conf_argument(config, {"conf=/etc/shadow"}, 0);
    REQUIRE(refused);
    CHECK_FALSE(refused->in_file);
    CHECK(refused->message == "conf= names a file outside pam_oauth2d's conf_dirs (/etc/pam_oauth2/pam_oauth2d.conf)");
    // The last conf= is the one parsing reads, so it is the one checked.
    CHECK(refused_conf_argument(config, {"conf=/etc/pam_oauth2/a.conf", "conf=/etc/shadow"}, 0));
    CHECK_FALSE(refused_conf_argument(config, {"conf=/etc/shadow", "conf=/etc/pam_oauth2/a.conf"}, 0));
}

TEST_CASE("conf_policy: a username_map= argument must name a file below conf_dirs too")
{
    DaemonConfig config = default_daemon_config();
    config.path = "/etc/pam_oauth2/pam_oauth2d.conf";
    CHECK_FALSE(refused_conf_argument(config, {"verify=userinfo", "username_map=/etc/pam_oauth2/users.map"}, 0));
    const auto refused = refused_conf_argument(config, {"username_map=/etc/shadow"}, 0);
    REQUIRE(refused);
    CHECK_FALSE(refused->in_file);
    CHECK(refused->message ==
          "username_map= names a file outside pam_oauth2d's conf_dirs (/etc/pam_oauth2/pam_oauth2d.conf)");
    CHECK(refused_conf_argument(config, {"username_map=/etc/pam_oauth2/../shadow"}, 0));
    CHECK(refused_conf_argument(config, {"username_map=users.map"}, 0));
}

TEST_CASE("conf_policy: a conf= file is usable only by the peers conf_users binds it to")
{
    DaemonConfig config = default_daemon_config();
    config.path = "/etc/pam_oauth2/pam_oauth2d.conf";
    const uid_t postgres = 114;
    const uid_t pgbouncer = 115;
    const uid_t grafana = 116;
    config.conf_users = {{"/etc/pam_oauth2/postgresql.conf", {postgres}},
                         {"/etc/pam_oauth2/pgbouncer/", {pgbouncer}},
                         {"/etc/pam_oauth2/shared-jwt.conf", {postgres, pgbouncer}}};
    CHECK(conf_bound_to(config.conf_users, "/etc/pam_oauth2/postgresql.conf", postgres));
    CHECK(conf_bound_to(config.conf_users, "/etc/pam_oauth2/pgbouncer/main.conf", pgbouncer));
    CHECK(conf_bound_to(config.conf_users, "/etc/pam_oauth2/shared-jwt.conf", pgbouncer));
    // The confused deputy: postgres names pgbouncer's file (which holds pgbouncer's client secret).
    CHECK_FALSE(conf_bound_to(config.conf_users, "/etc/pam_oauth2/pgbouncer/main.conf", postgres));
    CHECK_FALSE(conf_bound_to(config.conf_users, "/etc/pam_oauth2/postgresql.conf", pgbouncer));
    // A file line binds that file only; a directory line only what lies below it.
    CHECK_FALSE(conf_bound_to(config.conf_users, "/etc/pam_oauth2/postgresql.conf.bak", postgres));
    CHECK_FALSE(conf_bound_to(config.conf_users, "/etc/pam_oauth2/pgbouncer", pgbouncer));
    CHECK_FALSE(conf_bound_to(config.conf_users, "/etc/pam_oauth2/pgbouncer/", pgbouncer));
    CHECK_FALSE(conf_bound_to(config.conf_users, "/etc/pam_oauth2/pgbouncer-other/x.conf", pgbouncer));
    // A file no line names is nobody's, whoever asks.
    CHECK_FALSE(conf_bound_to(config.conf_users, "/etc/pam_oauth2/unlisted.conf", grafana));
    CHECK_FALSE(conf_bound_to({}, "/etc/pam_oauth2/postgresql.conf", postgres));

    // Refused before anything is opened, in one wording for files that exist and files that do not,
    // and without the path.
    const auto refused = refused_conf_argument(config, {"conf=/etc/pam_oauth2/pgbouncer/main.conf"}, postgres);
    REQUIRE(refused);
    CHECK(
        refused->message ==
        "conf= names a file that pam_oauth2d's conf_users does not bind to uid 114 (/etc/pam_oauth2/pam_oauth2d.conf)");
    const auto missing = refused_conf_argument(config, {"conf=/etc/pam_oauth2/pgbouncer/no-such.conf"}, postgres);
    REQUIRE(missing);
    CHECK(missing->message == refused->message);
    CHECK_FALSE(refused_conf_argument(config, {"conf=/etc/pam_oauth2/postgresql.conf"}, postgres));
    CHECK_FALSE(refused_conf_argument(config, {"verify=jwt", "issuer=https://idp", "audience=db"}, grafana));
}

TEST_CASE("conf_users in pam_oauth2d.conf: one line per file or directory, users that exist")
{
    const TempDir dir;
    const auto load = [&](const std::string& text) { return load_daemon_text(dir, text); };
    auto loaded = load("conf_users = /etc/pam_oauth2/postgresql.conf root\n"
                       "conf_users = /etc/pam_oauth2/services/   root, 65534\n");
    REQUIRE(std::holds_alternative<DaemonConfig>(loaded));
    const auto& bindings = std::get<DaemonConfig>(loaded).conf_users;
    REQUIRE(bindings.size() == 2);
    CHECK(bindings[0].path == "/etc/pam_oauth2/postgresql.conf");
    CHECK(bindings[0].uids == std::vector<uid_t>{0});
    CHECK(bindings[1].path == "/etc/pam_oauth2/services/");
    CHECK(bindings[1].uids == std::vector<uid_t>{0, 65534});
    CHECK(describe_daemon_config(std::get<DaemonConfig>(loaded))
              .find("conf_users=\"/etc/pam_oauth2/postgresql.conf 0; /etc/pam_oauth2/services/ 0,65534\"") !=
          std::string::npos);
    for (const auto* bad :
         {"conf_users = /etc/pam_oauth2/a.conf\n", "conf_users =\n", "conf_users = relative.conf root\n",
          "conf_users = / root\n", "conf_users = /etc/pam_oauth2/../shadow root\n",
          "conf_users = /etc//pam_oauth2/a.conf root\n", "conf_users = /etc/pam_oauth2/a.conf ,\n",
          "conf_users = /etc/pam_oauth2/a.conf no-such-user-here\n"}) {
        INFO(bad);
        CHECK(std::holds_alternative<std::string>(load(bad)));
    }
}

TEST_CASE("conf_dirs in pam_oauth2d.conf: absolute directories, or empty for no conf= at all")
{
    const TempDir dir;
    const auto load = [&](const std::string& text) { return load_daemon_text(dir, text); };
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
