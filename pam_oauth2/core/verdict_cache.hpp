#pragma once

#include "cache.hpp"
#include "clock.hpp"
#include "settings_fwd.hpp"
#include "verifier.hpp"

#include <optional>
#include <string>

namespace pam_oauth2 {

// Positive userinfo/introspection verdicts kept for cache_ttl seconds (never past the token's exp, as
// the provider or a JWT-shaped token itself states it),
// so a client that opens many connections with one token asks the identity provider once. Only the
// provider's claims are kept, under the SHA-256 of the token: the token itself is never written. The
// claim rules still run on every login; the authenticator stores only verdicts that passed them.
class VerdictCache {
public:
    /// Verdicts are bound to `endpoints` and to `trust` (the login's trust_tag(): its ca_file/ca_path):
    /// one provider's verdict is never reused for another, nor for a login whose own TLS settings
    /// would not have trusted the server that gave it.
    VerdictCache(const DocumentStore* cache, const CacheSettings& settings, const EndpointSettings& endpoints,
                 Clock now, std::string trust = {})
        : cache_(cache), settings_(settings), endpoints_(endpoints), now_(std::move(now)), trust_(std::move(trust))
    {
    }

    /// A cached Valid result for this method and token, if one is fresh.
    [[nodiscard]] std::optional<VerifyResult> find(VerifyMethod method, const PresentedToken& token) const;
    /// Remembers a Valid result; false when nothing was stored (disabled, not valid, no cache, or a
    /// JWT-shaped token whose exp cannot be read).
    bool store(VerifyMethod method, const PresentedToken& token, const VerifyResult& result) const;

private:
    [[nodiscard]] bool enabled(VerifyMethod method) const;
    [[nodiscard]] std::string key(VerifyMethod method, const PresentedToken& token) const;
    [[nodiscard]] const std::string& endpoint_url(VerifyMethod method) const;

    const DocumentStore* cache_;
    const CacheSettings& settings_;
    const EndpointSettings& endpoints_;
    Clock now_;
    std::string trust_;
};

} // namespace pam_oauth2
