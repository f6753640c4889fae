#include "cache.hpp"

#include "digest.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pam_oauth2 {

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
        return directory + " is not a directory private to uid " + std::to_string(uid) + "; not using the cache";
    }
    return DiskCache(directory);
}

std::string DiskCache::path_for(std::string_view key) const
{
    return directory_ + "/" + sha256_hex(key).substr(0, 32);
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
    const UniqueFd fd(::mkstemp(temporary.data()));
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
    return ok;
}

} // namespace pam_oauth2
