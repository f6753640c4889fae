#pragma once

#include "cache.hpp"

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pam_oauth2 {

// The document store of a long-lived process (pam_oauth2d): the same entries the module keeps on
// disk, held in memory, shared by every thread, and bounded. When full, the oldest write goes first.
class MemoryStore final : public DocumentStore {
public:
    explicit MemoryStore(std::size_t max_entries) : max_entries_(max_entries) {}

    [[nodiscard]] std::optional<CacheEntry> read(std::string_view key, std::size_t max_bytes) const override;
    [[nodiscard]] bool write(std::string_view key, std::string_view text, long long stored_at) const override;
    [[nodiscard]] std::string where() const override { return "memory"; }
    [[nodiscard]] std::shared_ptr<const void> memo(std::string_view key, long long stored_at) const override;
    void remember(std::string_view key, long long stored_at, const std::shared_ptr<const void>& parsed) const override;

    [[nodiscard]] std::size_t size() const;

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

    std::size_t max_entries_;
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, Stored> entries_;
    mutable unsigned long long generation_ = 0;
    // Every write in order, so eviction is O(1); a key rewritten later is skipped when its old
    // write reaches the front.
    mutable std::deque<Written> order_;
};

} // namespace pam_oauth2
