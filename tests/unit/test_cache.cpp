#include "cache.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
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
    for (const auto& [name, age] :
         {std::pair<const char*, long long>{"/0123abcd.Xy12Zq", 120}, {"/4567ef.Ab34Cd", 5}}) {
        const std::string path = cache.directory() + name;
        std::ofstream(path) << "partial";
        const timespec stamp[2] = {{static_cast<time_t>(now - age), 0}, {static_cast<time_t>(now - age), 0}};
        REQUIRE(utimensat(AT_FDCWD, path.c_str(), stamp, 0) == 0);
    }
    REQUIRE(cache.write("stale", "old", now - DiskCache::max_entry_age_seconds - 1));
    REQUIRE(cache.write("fresh", "new", now));
    CHECK_FALSE(cache.read("stale", 64));
    CHECK(cache.read("fresh", 64));
    CHECK(access((cache.directory() + "/0123abcd.Xy12Zq").c_str(), F_OK) != 0);
    CHECK(access((cache.directory() + "/4567ef.Ab34Cd").c_str(), F_OK) == 0);

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
