#pragma once

#include "cache.hpp"
#include "logger.hpp"
#include "memory_store.hpp"
#include "metrics.hpp"
#include "redis_pool.hpp"
#include "shared_cache_setup.hpp"

#include <atomic>
#include <memory>
#include <mutex>

namespace pam_oauth2 {

// The daemon's document store with the fleet's Redis as a second level behind memory. read: memory
// first (a login answered from memory never touches Redis); on a miss, the entry under the fleet's
// name for the key (current secret, then the previous one), opened with the sealed-entry code and
// copied into memory. write: memory, then Redis (SET ... EX). Every Redis failure, timeout or value
// that does not open is a miss, counted: never a grant and never a refusal, because the store only
// holds what the core would have kept in memory (positive verdicts and documents), and the core
// checks them on read exactly as it checks memory.
class SharedStore final : public DocumentStore {
public:
    SharedStore(MemoryStore& memory, Metrics& metrics, const Logger& logger);

    /// Uses `setup` (a new pool) from now on, or no shared cache when null; logins already running
    /// finish on the pool they took.
    void configure(const std::shared_ptr<const SharedCacheSetup>& setup);

    [[nodiscard]] std::optional<CacheEntry> read(std::string_view key, std::size_t max_bytes) const override;
    [[nodiscard]] bool write(std::string_view key, std::string_view text, long long stored_at) const override;
    [[nodiscard]] std::string where() const override;
    [[nodiscard]] std::shared_ptr<const void> memo(std::string_view key, long long stored_at) const override
    {
        return memory_.memo(key, stored_at);
    }
    void remember(std::string_view key, long long stored_at, const std::shared_ptr<const void>& parsed) const override
    {
        memory_.remember(key, stored_at, parsed);
    }
    [[nodiscard]] bool admits(std::string_view url) const override { return memory_.admits(url); }

    /// The longest a verdict lives in Redis: each reader still applies its own cache_ttl and the
    /// token's exp; this bounds what a stolen Redis dump holds.
    static constexpr long long verdict_max_seconds = 3600;

    struct Fleet;

private:
    [[nodiscard]] std::shared_ptr<Fleet> fleet() const;
    /// A value that did not open: counted, logged at most once a minute (never the value).
    void report_bad_value(const std::string& reason) const;

    MemoryStore& memory_;
    Metrics& metrics_;
    const Logger& logger_;
    mutable std::mutex mutex_;
    std::shared_ptr<Fleet> fleet_;
    mutable std::atomic<long long> last_bad_value_log_{0};
};

} // namespace pam_oauth2
