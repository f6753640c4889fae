#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

enum class VerifyMethod;
struct HttpRequest;
struct HttpResult;
struct RuleCheck;
struct VerifyResult;

// Where a document the jwt method needs (discovery document, JWKS) came from.
enum class DocumentSource {
    Cache,            // a fresh copy from the cache
    StaleCache,       // an older copy, used because the identity provider fails
    IdentityProvider, // fetched now
};

// One document read by the jwt method's key source.
struct DocumentEvent {
    std::string_view document; // "discovery document" or "JWKS"
    std::string_view url;
    DocumentSource from = DocumentSource::Cache;
    std::optional<long long> age_seconds;    // read from the cache: how old the copy is
    std::optional<long long> kept_seconds;   // how long it is kept (its Cache-Control), when known
    std::optional<bool> written;             // fetched: whether it went into the cache
    std::optional<std::string_view> store;   // fetched and parsed: where the cache lives
    std::optional<std::string_view> problem; // fetched: why it does not parse
};

// The [issuer NAME] section chosen for a jwt by its unverified iss, or why none was.
struct IssuerSectionEvent {
    bool found = false;
    std::string_view issuer;  // found: the section's issuer
    std::string_view section; // found: the section's name
    std::string_view problem; // not found: the refusal
};

// What `pam_oauth2_check --explain` shows of one decision, as typed events in the order they happen:
// the checks before verifying, each method considered, the issuer section, the verdict cache, each
// document and HTTP exchange, what the verifier answered, each claim rule. Only the check tool sets
// one (on the Logger); the core builds no event when none is set. Events never carry the token or a
// secret, and their views live only for the call.
class LoginObserver {
public:
    LoginObserver() = default;
    LoginObserver(const LoginObserver&) = delete;
    LoginObserver& operator=(const LoginObserver&) = delete;
    LoginObserver(LoginObserver&&) = delete;
    LoginObserver& operator=(LoginObserver&&) = delete;
    virtual ~LoginObserver() = default;

    /// The user and token checks that need no network: `problem` is null when they hold.
    virtual void before_verifying(const std::string* /*problem*/) {}
    /// A verify method in the order of verify=, and whether it judges this token.
    virtual void method(const char* /*name*/, VerifyMethod /*method*/, bool /*applies*/) {}
    /// The [issuer] section that judges a jwt (only when the conf= file has sections).
    virtual void issuer_section(const IssuerSectionEvent& /*event*/) {}
    /// A verdict reused from the verdict cache, with its detail.
    virtual void verdict_cache_hit(const std::string& /*detail*/) {}
    /// An endpoint method's verdict cache held nothing for this token.
    virtual void verdict_cache_miss() {}
    /// A fresh verdict that passed every rule was kept for `seconds`.
    virtual void verdict_cache_written(long /*seconds*/) {}
    /// A document of the jwt method's key source.
    virtual void document(const DocumentEvent& /*event*/) {}
    /// One exchange with the identity provider and how long it took.
    virtual void http(const HttpRequest& /*request*/, const HttpResult& /*result*/, long long /*elapsed_ms*/) {}
    /// What the verifier named `name` answered (claims for endpoint methods are the provider's answer).
    virtual void verified(const char* /*name*/, VerifyMethod /*method*/, const VerifyResult& /*result*/) {}
    /// One rule on the verified token and whether it holds.
    virtual void rule(const RuleCheck& /*check*/) {}
};

} // namespace pam_oauth2
