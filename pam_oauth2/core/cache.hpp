#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace pam_oauth2 {

// One cached document and when it was stored.
struct CacheEntry {
    std::string text;
    long long stored_at = 0; // seconds since the epoch (the file's mtime)
};

// Where fetched documents (discovery, JWKS) and verdicts are kept between logins: on disk for the
// short-lived processes of the module, in memory inside pam_oauth2d. Keys are never tokens.
class DocumentStore {
public:
    virtual ~DocumentStore() = default;
    /// The entry for `key`, when present and at most `max_bytes`.
    [[nodiscard]] virtual std::optional<CacheEntry> read(std::string_view key, std::size_t max_bytes) const = 0;
    /// Stores `text` under `key`, stamped with `stored_at`; false when it could not.
    [[nodiscard]] virtual bool write(std::string_view key, std::string_view text, long long stored_at) const = 0;
    /// Where the entries live, for log lines.
    [[nodiscard]] virtual std::string where() const = 0;

    /// What a reader made of the entry stored at `stored_at` (its parsed form), kept by stores that
    /// outlive a login so the next one skips the parse; dropped when the entry is rewritten. Only the
    /// reader that remembers under a key reads that key's memo, so it knows the type.
    [[nodiscard]] virtual std::shared_ptr<const void> memo(std::string_view /*key*/, long long /*stored_at*/) const
    {
        return nullptr;
    }
    virtual void remember(std::string_view /*key*/, long long /*stored_at*/,
                          const std::shared_ptr<const void>& /*parsed*/) const
    {
    }
    /// Whether a document fetched from `url` may still be served: a store that outlives a change of
    /// policy (pam_oauth2d's allow_hosts after a reload) answers for the policy in force now.
    [[nodiscard]] virtual bool admits(std::string_view /*url*/) const { return true; }
};

// The on-disk cache shared by the short-lived processes of one service (every PostgreSQL connection
// is a new process): a private directory <root>/<euid> (0700, owned by the effective uid), one file
// per key named by SHA-256 of the key, written to a temporary file and renamed into place, and pruned
// to a bounded size.
class DiskCache final : public DocumentStore {
public:
    /// Opens (creating when needed) the per-uid directory under `root`, or says why it cannot be used:
    /// a directory owned by someone else or open to others is never trusted.
    static std::variant<DiskCache, std::string> open(const std::string& root);

    /// The entry for `key`, when present, a regular file of ours and at most `max_bytes`.
    [[nodiscard]] std::optional<CacheEntry> read(std::string_view key, std::size_t max_bytes) const override;
    /// Stores `text` under `key` atomically, stamped with `stored_at` (the injected clock's now, kept as
    /// the file's mtime); false when it could not.
    [[nodiscard]] bool write(std::string_view key, std::string_view text, long long stored_at) const override;
    [[nodiscard]] std::string where() const override { return directory_; }

    [[nodiscard]] const std::string& directory() const { return directory_; }

    /// At most this many entries are kept; beyond it the oldest go.
    static constexpr std::size_t max_entries = 1024;
    /// Older entries are removed: no reader uses one (verdicts live at most a day, keys ten minutes).
    static constexpr long long max_entry_age_seconds = 86400 + 600;
    /// A temporary file this old belongs to a write that never finished.
    static constexpr long long abandoned_write_seconds = 60;

private:
    /// Removes what no reader will use, bounding the directory (called after each write, which only
    /// follows a network call, so a login served from the cache never pays for it). It removes only
    /// regular files of the effective uid named as this cache names them (32 hex digits, or those and
    /// a mkostemp suffix): anything else in the directory is left alone.
    void prune(long long now) const;
    explicit DiskCache(std::string directory) : directory_(std::move(directory)) {}
    [[nodiscard]] std::string path_for(std::string_view key) const;

    std::string directory_;
};

} // namespace pam_oauth2
