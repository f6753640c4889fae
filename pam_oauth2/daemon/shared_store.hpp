#pragma once

#include "cache.hpp"
#include "logger.hpp"
#include "memory_store.hpp"
#include "metrics.hpp"
#include "redis_pool.hpp"
#include "shared_cache_setup.hpp"

#include <atomic>
#include <chrono>
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
// A discovery document or JWKS that is missing or stale everywhere has one refresh owner across the
// fleet: the host that takes a short lease (SET NX PX) fetches it, the others re-read the shared
// entry for at most shared_cache_lease_ms and fetch themselves when the owner is slower than that.
// Refusals are kept apart (read_refusal, write_refusal): sealed the same way under a kind of their
// own, read only by the broker, which checks what they hold.
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

    /// While it lives, the reads of this thread belong to a login that must be answered by
    /// `deadline`: waiting for another host's document refresh takes at most half of what is left,
    /// so the login still has time to fetch the document itself.
    class LoginDeadline {
    public:
        explicit LoginDeadline(std::chrono::steady_clock::time_point deadline);
        ~LoginDeadline();
        LoginDeadline(const LoginDeadline&) = delete;
        LoginDeadline& operator=(const LoginDeadline&) = delete;

    private:
        std::chrono::steady_clock::time_point previous_;
    };

    /// True when a shared cache is in use now.
    [[nodiscard]] bool shared() const { return fleet() != nullptr; }
    /// The refusal another host shared for (token digest, fingerprint of every other input): its
    /// payload and use-by time, or nullopt: none, Redis failing, or a value that does not open (a
    /// miss, never a refusal).
    [[nodiscard]] std::optional<shared_cache::EntryContent> read_refusal(std::string_view token_digest,
                                                                         std::string_view fingerprint) const;
    /// Shares a refusal until `until` (Unix seconds; nothing when that is not in the future).
    void write_refusal(std::string_view token_digest, std::string_view fingerprint, std::string_view payload,
                       long long until) const;

    /// The longest a verdict lives in Redis: each reader still applies its own cache_ttl and the
    /// token's exp; this bounds what a stolen Redis dump holds.
    static constexpr long long verdict_max_seconds = 3600;

    struct Fleet;

private:
    [[nodiscard]] std::shared_ptr<Fleet> fleet() const;
    struct Lookup {
        std::optional<shared_cache::EntryContent> content;
        bool failed = false; // Redis did not answer well: no point asking again in this login
    };
    /// The entry under `entry`'s names (current secret, then previous), opened; a value that does not
    /// open or is larger than `max_bytes` is skipped.
    [[nodiscard]] Lookup lookup(const Fleet& fleet, const shared_cache::EntryKey& entry, std::size_t max_bytes) const;
    void store(const Fleet& fleet, const shared_cache::EntryKey& entry,
               const shared_cache::EntryContent& content) const;
    /// A document missing or stale in memory and in Redis: take the fleet's lease and return `best`
    /// (this host fetches), or wait for the owner's copy, or fall back to `best` when it is late.
    [[nodiscard]] std::optional<CacheEntry> refresh_owner(const Fleet& fleet, std::string_view key,
                                                          const std::string& digest, std::size_t max_bytes,
                                                          std::optional<CacheEntry> best) const;
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
