#pragma once

#include "cache.hpp"

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pam_oauth2 {

/// The bytes a MemoryStore holds unless told otherwise (pam_oauth2d's cache_bytes).
constexpr std::size_t default_memory_store_bytes = std::size_t{64} * 1024 * 1024;

// The document store of a long-lived process (pam_oauth2d): the same entries the module keeps on
// disk, held in memory, shared by every thread, and bounded both in entries and in bytes (a million
// small verdicts and a few large JWKS cost what they weigh). When full, the oldest write goes first.
class MemoryStore final : public DocumentStore {
public:
    explicit MemoryStore(std::size_t max_entries, std::size_t max_bytes = default_memory_store_bytes)
        : max_entries_(max_entries), max_bytes_(max_bytes)
    {
    }

    [[nodiscard]] std::optional<CacheEntry> read(std::string_view key, std::size_t max_bytes) const override;
    [[nodiscard]] bool write(std::string_view key, std::string_view text, long long stored_at) const override;
    [[nodiscard]] std::string where() const override { return "memory"; }
    [[nodiscard]] std::shared_ptr<const void> memo(std::string_view key, long long stored_at) const override;
    void remember(std::string_view key, long long stored_at, const std::shared_ptr<const void>& parsed) const override;
    [[nodiscard]] bool admits(std::string_view url) const override;

    /// Applies (re)loaded limits, evicting the oldest writes at once when the store is over them.
    void configure(std::size_t max_entries, std::size_t max_bytes);
    /// From now on, documents are served only for URLs `policy` accepts (nothing set: every URL). The
    /// entries stay: a policy that admits their URL again serves them again.
    void admit_only(std::function<bool(std::string_view url)> policy);

    [[nodiscard]] std::size_t size() const;
    /// What the entries weigh as counted against max_bytes: keys, texts, a parsed copy charged as much
    /// as its text, and a fixed overhead per entry and per write remembered for eviction.
    [[nodiscard]] std::size_t bytes() const;

    /// The bookkeeping each entry and each remembered write is charged beyond its strings.
    static constexpr std::size_t overhead_bytes = 128;

private:
    struct Stored {
        CacheEntry entry;
        unsigned long long generation;
        std::shared_ptr<const void> memo; // the parsed entry, once a reader made it
    };
    struct Written {
        std::string key;
        unsigned long long generation;
    };

    // What `key` and `stored` are charged (memo included).
    static std::size_t charge(const std::string& key, const Stored& stored);
    // Drops the oldest writes until every bound holds; the caller holds mutex_.
    void evict() const;

    std::size_t max_entries_;
    std::size_t max_bytes_;
    std::function<bool(std::string_view)> policy_;
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, Stored> entries_;
    mutable unsigned long long generation_ = 0;
    mutable std::size_t bytes_ = 0;
    // Every write in order, so eviction is O(1); a key rewritten later is skipped when its old
    // write reaches the front.
    mutable std::deque<Written> order_;
};

} // namespace pam_oauth2
