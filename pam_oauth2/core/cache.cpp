#include "cache.hpp"

#include "digest.hpp"
#include "unique_fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace pam_oauth2 {
namespace {

constexpr std::size_t entry_name_length = 32;      // hex digits of SHA-256, as path_for names an entry
constexpr std::size_t temporary_suffix_length = 7; // ".XXXXXX", as mkostemp fills it in write

// What a name in the directory is: one of the two kinds of file this cache writes, or something else.
enum class NameKind { Entry, Temporary, Foreign };

NameKind kind_of(std::string_view name)
{
    const auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    const auto is_template_character = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    };
    if (name.size() < entry_name_length || !std::all_of(name.begin(), name.begin() + entry_name_length, is_hex)) {
        return NameKind::Foreign;
    }
    if (name.size() == entry_name_length) {
        return NameKind::Entry;
    }
    const auto suffix = name.substr(entry_name_length);
    if (suffix.size() == temporary_suffix_length && suffix.front() == '.' &&
        std::all_of(suffix.begin() + 1, suffix.end(), is_template_character)) {
        return NameKind::Temporary;
    }
    return NameKind::Foreign;
}

} // namespace

std::variant<DiskCache, std::string> DiskCache::open(const std::string& root)
{
    if (root.empty() || root[0] != '/') {
        return std::string("cache_dir must be an absolute path");
    }
    const uid_t uid = ::geteuid();
    const std::string directory = root + "/" + std::to_string(uid);
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
        return "cannot create " + directory + ": " + std::strerror(errno);
    }
    struct stat st {};
    if (::lstat(directory.c_str(), &st) != 0) {
        return "cannot stat " + directory + ": " + std::strerror(errno);
    }
    // Anyone who can write here could plant keys: trust only our own private directory.
    if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0) {
        return directory + " is not a directory private to uid " + std::to_string(uid) + " (it belongs to uid " +
               std::to_string(st.st_uid) +
               "); someone may have created it first: remove it, or create it as root with install -d -o <user> "
               "-m 0700";
    }
    return DiskCache(directory);
}

std::string DiskCache::path_for(std::string_view key) const
{
    return directory_ + "/" + sha256_hex(key).substr(0, entry_name_length);
}

std::optional<CacheEntry> DiskCache::read(std::string_view key, std::size_t max_bytes) const
{
    const UniqueFd fd(::open(path_for(key).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
        static_cast<std::size_t>(st.st_size) > max_bytes) {
        return std::nullopt;
    }
    CacheEntry entry;
    entry.stored_at = static_cast<long long>(st.st_mtime);
    entry.text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < entry.text.size()) {
        const ssize_t got = ::read(fd.get(), entry.text.data() + done, entry.text.size() - done);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return std::nullopt;
        }
        done += static_cast<std::size_t>(got);
    }
    return entry;
}

bool DiskCache::write(std::string_view key, std::string_view text, long long stored_at) const
{
    const std::string final_path = path_for(key);
    std::string temporary = final_path + ".XXXXXX";
    const UniqueFd fd(::mkostemp(temporary.data(), O_CLOEXEC));
    if (fd.get() < 0) {
        return false;
    }
    std::size_t done = 0;
    bool ok = ::fchmod(fd.get(), 0600) == 0;
    while (ok && done < text.size()) {
        const ssize_t wrote = ::write(fd.get(), text.data() + done, text.size() - done);
        if (wrote < 0 && errno == EINTR) {
            continue;
        }
        ok = wrote > 0;
        done += ok ? static_cast<std::size_t>(wrote) : 0;
    }
    const timespec stamp[2] = {{static_cast<time_t>(stored_at), 0}, {static_cast<time_t>(stored_at), 0}};
    ok = ok && ::futimens(fd.get(), stamp) == 0;
    // rename() is atomic: concurrent logins see the old file or the new one, never half of one.
    ok = ok && ::rename(temporary.c_str(), final_path.c_str()) == 0;
    if (!ok) {
        ::unlink(temporary.c_str());
    }
    prune(stored_at);
    return ok;
}

void DiskCache::prune(long long now) const
{
    DIR* listing = ::opendir(directory_.c_str());
    if (listing == nullptr) {
        return;
    }
    struct Entry {
        std::string name;
        long long modified;
    };
    std::vector<Entry> kept;
    while (const dirent* entry = ::readdir(listing)) {
        const std::string name = entry->d_name;
        const NameKind kind = kind_of(name);
        struct stat st {};
        // Only the names this cache writes, and only regular files of ours: cache_dir may name a
        // directory that also holds other things (run as root with cache_dir=/run/user, the per-uid
        // directory is root's own /run/user/0, with sockets and dotted files of other programs).
        if (kind == NameKind::Foreign || ::fstatat(::dirfd(listing), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
            continue;
        }
        const long long age = now - static_cast<long long>(st.st_mtime);
        // Leftovers of a write that crashed half-way, and entries no reader would use any more.
        const bool temporary = kind == NameKind::Temporary;
        if ((temporary && age > abandoned_write_seconds) || age > max_entry_age_seconds) {
            ::unlinkat(::dirfd(listing), name.c_str(), 0);
        } else if (!temporary) {
            kept.push_back({name, static_cast<long long>(st.st_mtime)});
        }
    }
    if (kept.size() > max_entries) {
        // Oldest first: a flood of one-off tokens cannot fill the disk.
        std::sort(kept.begin(), kept.end(), [](const Entry& a, const Entry& b) { return a.modified < b.modified; });
        for (std::size_t i = 0; i + max_entries < kept.size(); ++i) {
            ::unlinkat(::dirfd(listing), kept[i].name.c_str(), 0);
        }
    }
    ::closedir(listing);
}

} // namespace pam_oauth2
