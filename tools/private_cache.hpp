#pragma once

#include "configuration.hpp"

#include <string>

namespace pam_oauth2 {

// pam_oauth2_check's own cache directory: a fresh private directory (mkdtemp under $TMPDIR when it
// is absolute, else /tmp), removed with everything in it when this object goes. The tool is often
// run as root and with a cache_dir copied from somewhere; without this it would adopt, write and
// prune whatever directory that names (cache_dir=/run/user made it prune root's /run/user/0).
class PrivateCache {
public:
    /// Creates the directory; path() is empty when it could not, and the login then goes without a
    /// cache (the core logs why) rather than touching the configured one.
    PrivateCache();
    /// Removes the directory and the cache's files in it.
    ~PrivateCache();
    PrivateCache(const PrivateCache&) = delete;
    PrivateCache& operator=(const PrivateCache&) = delete;

    /// The directory, or "" when it could not be created.
    [[nodiscard]] const std::string& path() const { return path_; }

    /// Points every cache_dir of `configuration` (the shared settings and each [issuer] section's)
    /// at this directory.
    void use_in(Configuration& configuration) const;

private:
    std::string path_;
};

} // namespace pam_oauth2
