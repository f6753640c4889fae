#include "config_file.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

using namespace pam_oauth2;
using pam_oauth2::testing::TempDir;

namespace {

std::string write_file(const std::string& path, const std::string& text, mode_t mode)
{
    std::ofstream(path) << text;
    REQUIRE(chmod(path.c_str(), mode) == 0);
    return path;
}

std::string error_of(const std::variant<ConfigFileText, ConfigError>& result)
{
    REQUIRE(std::holds_alternative<ConfigError>(result));
    return std::get<ConfigError>(result).message;
}

} // namespace

TEST_CASE("a safe conf file is read, with its world-readable bit reported")
{
    const TempDir dir;
    const auto path = write_file(dir.path + "/ok.conf", "debug\n", 0640);
    const auto result = read_config_file(path, geteuid());
    REQUIRE(std::holds_alternative<ConfigFileText>(result));
    CHECK(std::get<ConfigFileText>(result).text == "debug\n");
    CHECK_FALSE(std::get<ConfigFileText>(result).world_readable);

    write_file(path, "debug\n", 0644);
    CHECK(std::get<ConfigFileText>(read_config_file(path, geteuid())).world_readable);
}

TEST_CASE("unsafe conf files are refused with the rule they break")
{
    const TempDir dir;
    const auto path = write_file(dir.path + "/f.conf", "debug\n", 0664);
    CHECK(error_of(read_config_file(path, geteuid())).find("group- or world-writable") != std::string::npos);
    write_file(path, "debug\n", 0602);
    CHECK(error_of(read_config_file(path, geteuid())).find("group- or world-writable") != std::string::npos);
    write_file(path, "debug\n", 0600);
    CHECK(error_of(read_config_file(path, geteuid() + 1)).find("must be owned by uid") != std::string::npos);

    const std::string link = dir.path + "/link.conf";
    REQUIRE(symlink(path.c_str(), link.c_str()) == 0);
    CHECK(error_of(read_config_file(link, geteuid())).find("cannot open") != std::string::npos);

    CHECK(error_of(read_config_file(dir.path, geteuid())).find("not a regular file") != std::string::npos);
    CHECK(error_of(read_config_file(dir.path + "/missing", geteuid())).find("cannot open") != std::string::npos);
    CHECK(error_of(read_config_file("relative.conf", geteuid())).find("absolute") != std::string::npos);

    write_file(path, std::string(max_config_file_bytes + 1, '#'), 0600);
    CHECK(error_of(read_config_file(path, geteuid())).find("larger than") != std::string::npos);
}

TEST_CASE("review #14: a FIFO never blocks a login, and directories others can write are refused")
{
    const TempDir temp;
    const std::string fifo = temp.path + "/pam_oauth2.conf";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    // Opening a FIFO without a writer would block for ever; the open does not wait, and refuses it.
    CHECK(error_of(read_config_file(fifo, geteuid())).find("not a regular file") != std::string::npos);

    const std::string open_dir = temp.path + "/shared";
    REQUIRE(mkdir(open_dir.c_str(), 0777) == 0);
    REQUIRE(chmod(open_dir.c_str(), 0777) == 0);
    const std::string inside = write_file(open_dir + "/pam_oauth2.conf", "debug\n", 0600);
    CHECK(error_of(read_config_file(inside, geteuid())).find("directory " + open_dir + " is writable by others") !=
          std::string::npos);
    REQUIRE(chmod(open_dir.c_str(), 01777) == 0); // sticky, like /tmp: others cannot replace the file
    CHECK(std::holds_alternative<ConfigFileText>(read_config_file(inside, geteuid())));

    const std::string link = temp.path + "/via-link";
    REQUIRE(symlink(open_dir.c_str(), link.c_str()) == 0);
    CHECK(std::holds_alternative<ConfigFileText>(read_config_file(link + "/pam_oauth2.conf", geteuid())));
    CHECK(error_of(read_config_file(temp.path + "/../" + temp.path.substr(1) + "/shared/pam_oauth2.conf", geteuid()))
              .find("must not contain . or ..") != std::string::npos);
}

TEST_CASE("a user's own file: owned by that user or root, absence told apart, identity from the opened file")
{
    const TempDir dir;
    const auto path = write_file(dir.path + "/token.conf", "issuer = x\n", 0600);
    const TrustRule users_file{geteuid(), true, "profile file"};
    auto read = read_trusted_file(path, users_file);
    REQUIRE(std::holds_alternative<ConfigFileText>(read));
    const auto& text = std::get<ConfigFileText>(read);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(text.identity.device == st.st_dev);
    CHECK(text.identity.inode == st.st_ino);
    CHECK(text.identity.size == st.st_size);
    CHECK(same_file(text.identity, FileIdentity{st.st_dev, st.st_ino, st.st_size, st.st_mtim}));
    CHECK_FALSE(same_file(text.identity, FileIdentity{st.st_dev, st.st_ino, st.st_size + 1, st.st_mtim}));

    const auto problem_of = [&](const std::string& file) {
        auto result = read_trusted_file(file, users_file);
        REQUIRE(std::holds_alternative<FileProblem>(result));
        return std::get<FileProblem>(result);
    };
    CHECK(problem_of(dir.path + "/missing.conf").absent);
    CHECK(problem_of(dir.path + "/no-such-dir/token.conf").absent);
    CHECK(problem_of(dir.path + "/missing.conf").message.rfind("profile file " + dir.path + "/missing.conf: ", 0) == 0);
    write_file(path, "issuer = x\n", 0620);
    CHECK_FALSE(problem_of(path).absent);
    CHECK(problem_of(path).message.find("group- or world-writable") != std::string::npos);
    write_file(path, "issuer = x\n", 0600);
    const std::string link = dir.path + "/link.conf";
    REQUIRE(symlink(path.c_str(), link.c_str()) == 0);
    CHECK(problem_of(link).message.find("cannot open") != std::string::npos); // no symlink as the file
}
