#pragma once

#include "cache.hpp"
#include "clock.hpp"
#include "configuration.hpp"
#include "http_client.hpp"
#include "key_source.hpp"
#include "logger.hpp"
#include "verdict_cache.hpp"
#include "verifier.hpp"

#include <memory>
#include <optional>
#include <vector>

namespace pam_oauth2 {

// What one login's decision works with, built from the configuration: the verifiers in `verify=`
// order, the verdict cache, and what they share (a transport created on first use, the disk cache,
// the issuer's key source). Building is all it does; the authenticator decides.
class LoginVerifiers {
public:
    /// Keeps documents and verdicts in `store` when given (pam_oauth2d's memory); otherwise opens the
    /// disk cache, and only when this configuration can use it (jwt keys, or cache_ttl > 0).
    LoginVerifiers(const Configuration& configuration, const HttpClientFactory& make_http, const Clock& now,
                   const Logger& logger, const DocumentStore* store = nullptr);
    ~LoginVerifiers();
    LoginVerifiers(const LoginVerifiers&) = delete;
    LoginVerifiers& operator=(const LoginVerifiers&) = delete;

    // One verifier and the method it implements, as verify= lists them.
    struct Entry {
        VerifyMethod method;
        std::unique_ptr<TokenVerifier> verifier;
    };
    [[nodiscard]] const std::vector<Entry>& in_order() const { return verifiers_; }
    [[nodiscard]] const VerdictCache& verdicts() const { return verdicts_; }

    // The jwt verifier of one [issuer] section, with that section's keys.
    struct IssuerEntry {
        const Configuration::Issuer* issuer;
        std::unique_ptr<RemoteKeySource> keys;
        std::unique_ptr<TokenVerifier> verifier;
    };
    /// The section whose issuer the (unverified) `payload` names, or nullptr. Only the key source of
    /// the section chosen ever fetches anything.
    [[nodiscard]] const IssuerEntry* for_payload(const nlohmann::json& payload) const;

private:
    class LazyHttpClient;

    std::unique_ptr<LazyHttpClient> http_;
    std::optional<DiskCache> disk_;
    const DocumentStore* store_;
    RemoteKeySource keys_;
    VerdictCache verdicts_;
    std::vector<Entry> verifiers_;
    std::vector<IssuerEntry> issuers_;
};

} // namespace pam_oauth2
