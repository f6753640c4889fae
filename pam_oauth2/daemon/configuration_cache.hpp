#pragma once

#include "config_error.hpp"
#include "configuration.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace pam_oauth2 {

// What stat(2) said about one file a configuration was read from: a rewrite, a replacement (rename
// over it), a chmod or chown all change it. A missing file is a stamp too (it may appear later).
struct FileStamp {
    std::string path;
    bool exists = false;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    long long mtime_ns = 0;
    long long ctime_ns = 0;

    /// The stamp of `path` now.
    static FileStamp of(const std::string& path);
    /// Nanoseconds since the epoch of the file's last change (mtime or ctime, the later), 0 if missing.
    [[nodiscard]] long long changed_ns() const { return mtime_ns > ctime_ns ? mtime_ns : ctime_ns; }
    bool operator==(const FileStamp& other) const;
};

// pam_oauth2d's memory of loaded configurations (and configuration errors), so a login does not parse
// its module arguments and read its conf= and username_map files again (about 40 us) at every
// PREPARE and VERIFY. An entry is keyed by the exact argument vector and is valid while every file it
// was read from (Configuration::files, as the opened files were) has the stamp it had when it was
// kept; a file that changed between being read and being stamped is not kept.
//
// Staleness rule: every use stats those files again (about 1 us each; cheaper than any time-based
// bound worth stating), so a changed file is seen by the next login. A file changed less than
// `racy_window` (2 s) before it was read is not trusted to show a later change in its stamp
// (timestamps are coarse) and its configuration is not kept. A configuration error is kept at most
// `error_lifetime` (1 s: it may come from a username_map file whose name only the error knows). clear() (a SIGHUP
// reload) forgets everything, including the allow_hosts verdicts folded into the entries.
class ConfigurationCache {
public:
    using Loaded = std::variant<std::shared_ptr<const Configuration>, ConfigError>;
    using Loader = std::function<std::variant<Configuration, ConfigError>(const std::vector<std::string_view>&)>;
    /// A policy check on a loaded configuration (the daemon's allow_hosts): a message makes it an error.
    using Check = std::function<std::optional<std::string>(const Configuration&)>;

    struct Result {
        Loaded loaded;
        /// Names the configuration and the files' stamps: equal for two logins that read the same thing.
        std::string identity;
    };

    /// Argument vectors longer than this (in bytes) are loaded every time and never kept.
    static constexpr std::size_t max_key_bytes = std::size_t{16} * 1024;
    static constexpr std::chrono::milliseconds default_error_lifetime{1000};
    static constexpr std::chrono::milliseconds default_racy_window{2000};

    /// At most `max_entries` are kept; a new one beyond it evicts the oldest. The lifetimes are the
    /// rule above (tests shorten them).
    explicit ConfigurationCache(std::size_t max_entries, Loader loader = load_configuration,
                                std::chrono::milliseconds error_lifetime = default_error_lifetime,
                                std::chrono::milliseconds racy_window = default_racy_window);

    /// The configuration for `args`, checked with `check`: kept, or loaded now (and kept if allowed).
    /// Thread safe; the loading itself runs outside the lock.
    Result get(const std::vector<std::string>& args, const Check& check);
    /// Forgets every entry; a load that started before the call is not kept.
    void clear();
    /// Entries kept now (for tests and metrics).
    [[nodiscard]] std::size_t size() const;

private:
    struct Entry {
        Loaded loaded;
        std::vector<FileStamp> stamps;
        std::string identity;
        std::chrono::steady_clock::time_point expires;
    };
    [[nodiscard]] std::shared_ptr<const Entry> find(const std::string& key) const;
    void keep(const std::string& key, std::shared_ptr<const Entry> entry, unsigned long generation);

    const std::size_t max_entries_;
    const Loader loader_;
    const std::chrono::milliseconds error_lifetime_;
    const std::chrono::milliseconds racy_window_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<const Entry>> entries_;
    std::deque<std::string> order_; // keys, oldest first
    unsigned long generation_ = 0;
};

} // namespace pam_oauth2
