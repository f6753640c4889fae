#include "private_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace pam_oauth2 {
namespace {

// Removes the entries of `directory` (flat: the disk cache keeps no subdirectories), then it.
void remove_flat_directory(const std::string& directory)
{
    if (DIR* listing = ::opendir(directory.c_str())) {
        std::vector<std::string> names;
        while (const dirent* entry = ::readdir(listing)) {
            const std::string name = entry->d_name;
            if (name != "." && name != "..") {
                names.push_back(name);
            }
        }
        for (const auto& name : names) {
            ::unlinkat(::dirfd(listing), name.c_str(), 0);
        }
        ::closedir(listing);
    }
    ::rmdir(directory.c_str());
}

} // namespace

PrivateCache::PrivateCache()
{
    const char* tmpdir = std::getenv("TMPDIR");
    std::string pattern = (tmpdir != nullptr && tmpdir[0] == '/' ? std::string(tmpdir) : std::string("/tmp")) +
                          "/pam_oauth2_check_XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) {
        path_ = pattern;
    }
}

PrivateCache::~PrivateCache()
{
    if (path_.empty()) {
        return;
    }
    // The disk cache keeps its files in <root>/<euid>; nothing else is ever created here.
    remove_flat_directory(path_ + "/" + std::to_string(::geteuid()));
    ::rmdir(path_.c_str());
}

void PrivateCache::use_in(Configuration& configuration) const
{
    configuration.settings.cache.dir = path_;
    for (auto& issuer : configuration.issuers) {
        issuer.settings.cache.dir = path_;
    }
}

} // namespace pam_oauth2
