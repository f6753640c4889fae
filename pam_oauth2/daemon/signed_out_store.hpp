#pragma once

#include "cache.hpp"
#include "clock.hpp"
#include "signed_out_registry.hpp"

#include <atomic>

namespace pam_oauth2 {

// The daemon's document store as the core sees it once back-channel logout is on: every entry of
// the store behind it, except a cached verdict whose claims (sub, sid, and iss when the verdict has
// one) name a sign-in that ended at or after the verdict was written. Such a read is a miss, so the
// core asks the provider again, as for a verdict never cached. Documents (discovery, JWKS) pass.
class SignedOutStore final : public DocumentStore {
public:
    SignedOutStore(const DocumentStore& inner, const SignedOutRegistry& registry, Clock now)
        : inner_(inner), registry_(registry), now_(std::move(now))
    {
    }

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
    const DocumentStore& inner_;
    const SignedOutRegistry& registry_;
    Clock now_;
    mutable std::atomic<unsigned long long> dropped_{0};
};

} // namespace pam_oauth2
