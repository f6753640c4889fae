#include "cache.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <vector>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

// The name of the single file in `directory`.
std::string only_entry(const std::string& directory)
{
    std::vector<std::string> names;
    DIR* listing = opendir(directory.c_str());
    REQUIRE(listing != nullptr);
    while (const dirent* entry = readdir(listing)) {
        if (entry->d_name[0] != '.') {
            names.emplace_back(entry->d_name);
        }
    }
    closedir(listing);
    REQUIRE(names.size() == 1);
    return names.front();
}

DiskCache open_ok(const std::string& root)
{
    auto cache = DiskCache::open(root);
    if (auto* problem = std::get_if<std::string>(&cache)) {
        FAIL("cache refused: " << *problem);
    }
    return std::move(std::get<DiskCache>(cache));
}

} // namespace

TEST_CASE("the cache lives in a private per-uid directory, created on first use")
{
    const TempDir root;
    const DiskCache cache = open_ok(root.path);
    CHECK(cache.directory() == root.path + "/" + std::to_string(geteuid()));
    struct stat st {};
    REQUIRE(stat(cache.directory().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(std::get<std::string>(DiskCache::open("relative/dir")) == "cache_dir must be an absolute path");
}

TEST_CASE("a directory open to others is never trusted")
{
    const TempDir root;
    const std::string mine = root.path + "/" + std::to_string(geteuid());
    REQUIRE(mkdir(mine.c_str(), 0700) == 0);
    REQUIRE(chmod(mine.c_str(), 0770) == 0);
    auto opened = DiskCache::open(root.path);
    REQUIRE(std::holds_alternative<std::string>(opened));
    CHECK(std::get<std::string>(opened).find("not a directory private to uid") != std::string::npos);

    REQUIRE(rmdir(mine.c_str()) == 0);
    REQUIRE(symlink("/tmp", mine.c_str()) == 0); // a planted symlink is not our directory either
    CHECK(std::holds_alternative<std::string>(DiskCache::open(root.path)));
}

TEST_CASE("entries round-trip with their time, under hashed names, within a size cap")
{
    const TempDir root;
    const DiskCache cache = open_ok(root.path);
    REQUIRE(cache.write("JWKS https://idp/jwks", R"({"keys":[]})", 1'700'000'000));
    const auto entry = cache.read("JWKS https://idp/jwks", 1024);
    REQUIRE(entry);
    CHECK(entry->text == R"({"keys":[]})");
    CHECK(entry->stored_at == 1'700'000'000);
    CHECK_FALSE(cache.read("JWKS https://idp/jwks", 4)); // larger than the caller's cap
    CHECK_FALSE(cache.read("another key", 1024));

    REQUIRE(cache.write("JWKS https://idp/jwks", "second", 1'700'000'100));
    CHECK(cache.read("JWKS https://idp/jwks", 1024)->text == "second");
}

TEST_CASE("an entry that is a symlink or not a regular file is ignored")
{
    const TempDir root;
    const DiskCache cache = open_ok(root.path);
    REQUIRE(cache.write("key", "value", 1'700'000'000));
    const std::string path = cache.directory() + "/" + only_entry(cache.directory());
    std::ofstream(root.path + "/elsewhere") << "planted";
    REQUIRE(unlink(path.c_str()) == 0);
    REQUIRE(symlink((root.path + "/elsewhere").c_str(), path.c_str()) == 0);
    CHECK_FALSE(cache.read("key", 1024));
    REQUIRE(unlink(path.c_str()) == 0);
    REQUIRE(mkdir(path.c_str(), 0700) == 0);
    CHECK_FALSE(cache.read("key", 1024));
}

TEST_CASE("review #18: the cache is pruned: stale entries, abandoned writes, and beyond 1024 entries the oldest")
{
    const TempDir root;
    const DiskCache cache = open_ok(root.path);
    constexpr long long now = 1'700'000'000;
    // A write that crashed half-way a while ago, and one still in progress.
    for (const auto& [name, age] : {std::pair<const char*, long long>{"/0123456789abcdef0123456789abcdef.Xy12Zq", 120},
                                    {"/fedcba9876543210fedcba9876543210.Ab34Cd", 5}}) {
        const std::string path = cache.directory() + name;
        std::ofstream(path) << "partial";
        const timespec stamp[2] = {{static_cast<time_t>(now - age), 0}, {static_cast<time_t>(now - age), 0}};
        REQUIRE(utimensat(AT_FDCWD, path.c_str(), stamp, 0) == 0);
    }
    REQUIRE(cache.write("stale", "old", now - DiskCache::max_entry_age_seconds - 1));
    REQUIRE(cache.write("fresh", "new", now));
    CHECK_FALSE(cache.read("stale", 64));
    CHECK(cache.read("fresh", 64));
    CHECK(access((cache.directory() + "/0123456789abcdef0123456789abcdef.Xy12Zq").c_str(), F_OK) != 0);
    CHECK(access((cache.directory() + "/fedcba9876543210fedcba9876543210.Ab34Cd").c_str(), F_OK) == 0);

    for (std::size_t i = 0; i < DiskCache::max_entries + 10; ++i) {
        REQUIRE(cache.write("key " + std::to_string(i), "v", now + static_cast<long long>(i)));
    }
    std::size_t entries = 0;
    DIR* listing = opendir(cache.directory().c_str());
    while (const dirent* entry = readdir(listing)) {
        entries += std::string(entry->d_name).find('.') == std::string::npos ? 1U : 0U;
    }
    closedir(listing);
    CHECK(entries == DiskCache::max_entries);
    CHECK_FALSE(cache.read("fresh", 64));                                       // the oldest went first
    CHECK(cache.read("key " + std::to_string(DiskCache::max_entries + 9), 64)); // the newest stayed
}

TEST_CASE("review #19: prune removes only the names the cache writes, never a foreign file however old")
{
    const TempDir root;
    const DiskCache cache = open_ok(root.path);
    constexpr long long now = 1'700'000'000;
    const auto age = [&](const std::string& name, long long seconds) {
        const timespec stamp[2] = {{static_cast<time_t>(now - seconds), 0}, {static_cast<time_t>(now - seconds), 0}};
        REQUIRE(utimensat(AT_FDCWD, (cache.directory() + "/" + name).c_str(), stamp, AT_SYMLINK_NOFOLLOW) == 0);
    };
    const auto exists = [&](const std::string& name) {
        struct stat st {};
        return lstat((cache.directory() + "/" + name).c_str(), &st) == 0;
    };
    // What another program keeps in a directory such as root's /run/user/0, all older than any limit.
    const long long ancient = DiskCache::max_entry_age_seconds * 2;
    const int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string socket_path = cache.directory() + "/bus";
    REQUIRE(socket_path.size() < sizeof address.sun_path);
    std::copy(socket_path.begin(), socket_path.end(), address.sun_path);
    REQUIRE(bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    close(listener);
    const std::vector<std::string> foreign{"bus",
                                           ".lock",
                                           "notes.txt",
                                           "0123456789abcdef0123456789abcdef.txt",
                                           "0123456789abcdef0123456789abcde",
                                           "0123456789ABCDEF0123456789ABCDEF",
                                           ".0123456789abcdef0123456789abcd"};
    for (const auto& name : foreign) {
        if (name != "bus") {
            std::ofstream(cache.directory() + "/" + name) << "someone else's";
        }
        age(name, ancient);
    }
    REQUIRE(mkdir((cache.directory() + "/fedcba9876543210fedcba9876543210").c_str(), 0700) == 0);
    age("fedcba9876543210fedcba9876543210", ancient);
    // The cache's own: an expired entry and an abandoned write.
    REQUIRE(cache.write("expired", "old", now - ancient));
    std::ofstream(cache.directory() + "/00112233445566778899aabbccddeeff.AbC123") << "partial";
    age("00112233445566778899aabbccddeeff.AbC123", DiskCache::abandoned_write_seconds + 1);

    REQUIRE(cache.write("fresh", "new", now));
    CHECK_FALSE(cache.read("expired", 64));
    CHECK_FALSE(exists("00112233445566778899aabbccddeeff.AbC123"));
    CHECK(cache.read("fresh", 64));
    for (const auto& name : foreign) {
        INFO(name);
        CHECK(exists(name));
    }
    CHECK(exists("fedcba9876543210fedcba9876543210"));
}
