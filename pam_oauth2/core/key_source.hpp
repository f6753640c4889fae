#pragma once

#include "cache.hpp"
#include "clock.hpp"
#include "document_lifetime.hpp"
#include "fallible.hpp"
#include "http_client.hpp"
#include "jwks.hpp"
#include "logger.hpp"
#include "login_observer.hpp"
#include "settings_fwd.hpp"

#include <string>
#include <vector>

namespace pam_oauth2 {

// The issuer's signing keys as the JWT verifier needs them.
struct KeySet {
    std::vector<Jwk> keys;
    std::string error; // non-empty: no trustworthy key set could be had (maps to Unavailable)
};

// Where signing keys come from; unit tests substitute a fixed set.
class KeySource {
public:
    virtual ~KeySource() = default;
    /// The current keys. `refresh` asks for a fresh copy because a token named an unknown kid; the
    /// source may decline when it fetched very recently (rate limit).
    virtual KeySet keys(bool refresh) = 0;
};

/// While the identity provider fails, a cached JWKS (or discovery document) up to this old is still
/// used, with a warning (stale-if-error, bounded so a withdrawn key does not live on for long).
constexpr long long jwks_stale_if_error_seconds = 3600;
/// An unknown kid refreshes the JWKS at most this often (per service user, across processes).
constexpr long long jwks_refresh_interval_seconds = 30;

// Keys from jwks_url, or from the issuer's discovery document, kept in the on-disk cache so that a
// login in a fresh process usually needs no network at all.
class RemoteKeySource final : public KeySource {
public:
    /// `http` is used only when a document must be fetched (the module passes a client that loads the
    /// transport on first use, so a login served from the cache never loads libcurl).
    /// `issuer` is where discovery starts; `allow_http` is the URL policy for a discovered jwks_uri.
    RemoteKeySource(std::string issuer, const JwtSettings& settings, bool allow_http, HttpClient& http,
                    const DocumentStore* cache, Clock now, const Logger& logger)
        : issuer_(std::move(issuer)), settings_(settings), allow_http_(allow_http), http_(http), cache_(cache),
          now_(std::move(now)), logger_(logger)
    {
    }
    KeySet keys(bool refresh) override;

private:
    // A document read with `Parse` (text -> Parsed or the reason), from the cache when a copy that
    // parses is fresh enough, otherwise fetched, parsed and only then cached.
    template <typename Parsed, typename Parse>
    Fallible<Parsed> fetch(const std::string& url, const std::string& what, bool refresh, const Parse& parse);
    /// The configured jwks_url, or the one the discovery document names.
    Fallible<std::string> jwks_url();
    // Tells the observer, when there is one, that `what` was read from the cache.
    void trace_document(const std::string& what, const std::string& url, DocumentSource from, long long age,
                        long long lifetime) const;
    // Tells the observer that `what` was fetched: kept for `kept` seconds (when it parsed and there is
    // a cache), or why it does not parse.
    void trace_fetched(const std::string& what, const std::string& url, std::optional<long long> kept, bool written,
                       std::optional<std::string_view> problem) const;

    std::string issuer_;
    const JwtSettings& settings_;
    bool allow_http_;
    HttpClient& http_;
    const DocumentStore* cache_;
    Clock now_;
    const Logger& logger_;
};

} // namespace pam_oauth2
