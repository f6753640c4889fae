#pragma once

#include "cache.hpp"
#include "clock.hpp"
#include "signed_out_registry.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace pam_oauth2 {

// The daemon's document store as the core sees it once back-channel logout is on: every entry of
// the store behind it, except a cached verdict whose claims (sub, sid, and iss when the verdict has
// one) name a sign-in that ended at or after the verdict was written. Such a read is a miss, so the
// core asks the provider again, as for a verdict never cached. Documents (discovery, JWKS) pass.
// Ended sign-ins come from this daemon's registry and from the markers other hosts of the fleet
// wrote into the shared cache (mark()); a marker found absent is looked up again after
// marker_recheck_seconds, so a cached verdict costs at most one lookup per sub or sid per interval.
class SignedOutStore final : public DocumentStore {
public:
    SignedOutStore(const DocumentStore& inner, const SignedOutRegistry& registry, Clock now)
        : inner_(inner), registry_(registry), now_(std::move(now))
    {
    }

    /// A marker absent from the shared cache is looked up again after this long: the delay before a
    /// logout another host received reaches this one.
    static constexpr long long marker_recheck_seconds = 5;
    /// Writes the markers of `signed_out` (one for its sub, one for its sid) through the store behind,
    /// so the other hosts of a fleet find them (sealed like every shared entry).
    void mark(const SignedOut& signed_out) const;
    /// Whether the fleet's markers are looked up (logout_issuer set): off, nothing but this daemon's
    /// own registry is consulted and a cached verdict costs no lookup more than before.
    void consult_fleet(bool consult) { consult_fleet_.store(consult); }
    /// The latest logout of that sub or sid at `issuer` (empty: any), from the registry or the
    /// fleet's markers.
    [[nodiscard]] std::optional<long long> ended_at(const std::string& issuer, const std::string& subject,
                                                    const std::string& session_id) const;

    [[nodiscard]] std::optional<CacheEntry> read(std::string_view key, std::size_t max_bytes) const override;
    [[nodiscard]] bool write(std::string_view key, std::string_view text, long long stored_at) const override
    {
        return inner_.write(key, text, stored_at);
    }
    [[nodiscard]] std::string where() const override { return inner_.where(); }
    [[nodiscard]] std::shared_ptr<const void> memo(std::string_view key, long long stored_at) const override
    {
        return inner_.memo(key, stored_at);
    }
    void remember(std::string_view key, long long stored_at, const std::shared_ptr<const void>& parsed) const override
    {
        inner_.remember(key, stored_at, parsed);
    }
    [[nodiscard]] bool admits(std::string_view url) const override { return inner_.admits(url); }

    /// Verdicts not used because their sign-in ended.
    [[nodiscard]] unsigned long long dropped() const { return dropped_.load(); }

private:
    /// The latest logout the fleet's markers record for these claims, if any.
    [[nodiscard]] std::optional<long long> marked(const std::string& issuer, const std::string& subject,
                                                  const std::string& session_id) const;
    [[nodiscard]] std::optional<long long> marker(const std::string& issuer, const std::string& key) const;

    const DocumentStore& inner_;
    const SignedOutRegistry& registry_;
    Clock now_;
    mutable std::atomic<unsigned long long> dropped_{0};
    std::atomic<bool> consult_fleet_{false};
    mutable std::mutex absent_mutex_;
    mutable std::map<std::string, long long> absent_; // marker key -> when it was last found absent
};

} // namespace pam_oauth2
