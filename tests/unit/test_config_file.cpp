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
