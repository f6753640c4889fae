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

#include <optional>
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

/// What a cache key says about the transport trust a document was fetched under: empty for the
/// system's trust store, otherwise a digest of ca_file and ca_path and the identity (device, inode,
/// size, times) of what they name now, so a replaced CA file is another trust.
std::string trust_tag(const HttpSettings& transport);

// Keys from jwks_url, or from the issuer's discovery document, kept in the on-disk cache so that a
// login in a fresh process usually needs no network at all.
class RemoteKeySource final : public KeySource {
public:
    /// `http` is used only when a document must be fetched (the module passes a client that loads the
    /// transport on first use, so a login served from the cache never loads libcurl).
    /// `issuer` is where discovery starts; `transport` is this login's transport policy: allow_http for
    /// a discovered jwks_uri, and the trust (ca_file, ca_path) a cached document must have been
    /// fetched under to serve this login.
    RemoteKeySource(std::string issuer, const JwtSettings& settings, const HttpSettings& transport, HttpClient& http,
                    const DocumentStore* cache, Clock now, const Logger& logger);
    KeySet keys(bool refresh) override;

private:
    struct Reading;
    // A document read with `parse` (text -> Parsed or the reason, the same for every reader, so it is
    // what a memo keeps) and accepted by `check` (this reader's policy: run on every use, cached or
    // fetched). From the cache when a copy that parses is fresh enough, otherwise fetched, and cached
    // only when it parses and passes the check.
    template <typename Parsed, typename Parse, typename Check>
    Fallible<Parsed> fetch(const std::string& url, const std::string& what, bool refresh, const Parse& parse,
                           const Check& check);
    // The fresh cached copy of `reading`, or nothing when there is none this reader may use.
    template <typename Parsed, typename Parse, typename Check>
    std::optional<Fallible<Parsed>> from_cache(const Reading& reading, long long age, const Parse& parse,
                                               const Check& check);
    // The document fetched from the provider, or (bounded, never for a policy refusal) an older copy.
    template <typename Parsed, typename Parse, typename Check>
    Fallible<Parsed> from_provider(const Reading& reading, const Parse& parse, const Check& check);
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
    std::string trust_; // appended to every cache key: empty for the system's trust store
    HttpClient& http_;
    const DocumentStore* cache_;
    Clock now_;
    const Logger& logger_;
};

} // namespace pam_oauth2
