#pragma once

#include "http_client.hpp"
#include "secure_string.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pam_oauth2 {

enum class VerifyMethod { Jwt, Introspect, Userinfo };
enum class LogTarget { Syslog, Stderr };

/// Name of a method as written in `verify=` and in log lines.
const char* method_name(VerifyMethod method) noexcept;

// The client secret as the settings hold it: a SecureString that may be copied on purpose, because
// the settings of each [issuer NAME] section start as a copy of the shared ones. Every copy is wiped
// when it dies, like the original.
class SettingsSecret : public SecureString {
public:
    SettingsSecret() = default;
    explicit SettingsSecret(std::string_view text) : SecureString(text) {}
    ~SettingsSecret() = default;
    SettingsSecret(const SettingsSecret& other) : SecureString(other.view()) {}
    SettingsSecret& operator=(const SettingsSecret& other)
    {
        if (this != &other) {
            SecureString::operator=(SecureString(other.view()));
        }
        return *this;
    }
    SettingsSecret(SettingsSecret&&) noexcept = default;
    SettingsSecret& operator=(SettingsSecret&&) noexcept = default;
    /// Takes a secret over without a copy.
    SettingsSecret& operator=(SecureString&& other) noexcept
    {
        SecureString::operator=(std::move(other));
        return *this;
    }
};

// The identity provider endpoints the endpoint verifiers call, and the introspection client.
struct EndpointSettings {
    std::string userinfo_url;
    std::string introspection_url;
    std::string client_id;
    SettingsSecret client_secret;
};

// Where the jwt method finds the issuer's keys and which signatures it accepts.
struct JwtSettings {
    std::string jwks_url;      // empty: from the issuer's discovery document
    std::string discovery_url; // empty: <issuer>/.well-known/openid-configuration
    std::vector<std::string> algorithms{"RS256", "RS384", "RS512", "PS256", "PS384",
                                        "PS512", "ES256", "ES384", "ES512", "EdDSA"};
};

// What a token must say about itself, whichever method verified it.
struct TokenRules {
    std::string issuer;
    std::string audience;
    bool allow_any_audience = false;  // jwt and introspect need audience unless this waives it
    bool allow_id_tokens = false;     // tokens that say they are ID tokens are refused unless set
    std::vector<std::string> tenants; // with an issuer holding {tenantid}: the tenants (tid) accepted
    long leeway_seconds = 60;         // clock skew forgiven for exp, nbf and iat
    std::size_t max_bytes = 65535;
};

// Who may log in with a verified token.
struct UserRules {
    std::string username_claim = "preferred_username";
    bool case_insensitive = false;
    std::string username_map; // path of the mapping file; compiled by load_configuration
    std::vector<std::string> deny_users{"root", "postgres"};
    std::string groups_claim = "groups";
    std::vector<std::string> groups;
    std::vector<std::string> scope;
    std::vector<std::pair<std::string, std::string>> require_claims;
};

// The on-disk cache of JWKS, discovery documents and verdicts.
struct CacheSettings {
    std::string dir = "/var/cache/pam_oauth2";
    long ttl_seconds = 60; // positive userinfo/introspection verdicts; 0 disables
};

// How the token is obtained from libpam.
struct ConversationSettings {
    bool use_first_pass = false;
    bool try_first_pass = false;
    std::string prompt = "Access token: ";
};

// Whether pam_oauth2.so hands logins to pam_oauth2d (acted on by the module's C front; the verifier
// only shows them).
struct BrokerSettings {
    std::string socket;             // empty: verify in-process
    std::string fallback = "local"; // when the daemon cannot answer: "local" or "deny"
};

struct LogSettings {
    bool debug = false;
    LogTarget target = LogTarget::Syslog;
};

// The audit trail: one JSON event per decision, to syslog or a file (docs/audit.md).
enum class AuditTarget { Off, Syslog, File };
struct AuditSettings {
    AuditTarget target = AuditTarget::Off;
    std::string file; // absolute; required with audit=file, refused without it
};

// When pam_oauth2d ends the session a brokered login opens (session_tracker in the daemon). Unset
// values take the daemon's defaults (pam_oauth2d.conf); logins verified in-process ignore them.
struct SessionSettings {
    std::optional<bool> end_at_expiry;   // end it at the token's exp plus the grace
    std::optional<long> grace_seconds;   // seconds after exp
    std::optional<long> max_age_seconds; // end it this long after the login whatever the token; 0: never
    std::optional<bool> end_on_logout;   // end it when the provider says the sign-in is over
    std::optional<long> recheck_seconds; // ask the provider about an opaque token this often; 0: never

    /// Whether any value is set on the line.
    [[nodiscard]] bool any() const
    {
        return end_at_expiry || grace_seconds || max_age_seconds || end_on_logout || recheck_seconds;
    }
};

/// session_recheck: 0 (off) or from the minimum to the maximum. Every tracked session costs one
/// provider request per interval, so an interval shorter than this is refused as a mistake.
constexpr long min_recheck_seconds = 5;
constexpr long max_recheck_seconds = 86400;

// The effective configuration of one module invocation. Each concern is a value type handed only to
// the code that needs it; the defaults here are the documented defaults (option_table.cpp lists them).
struct Settings {
    std::vector<VerifyMethod> verify{VerifyMethod::Userinfo};
    EndpointSettings endpoints;
    JwtSettings jwt;
    TokenRules token;
    UserRules users;
    HttpSettings http;
    CacheSettings cache;
    ConversationSettings conversation;
    LogSettings log;
    BrokerSettings broker;
    SessionSettings sessions;
    std::string conf; // the conf= file read first, if any
    AuditSettings audit;

    /// Whether verify= lists `method`.
    [[nodiscard]] bool uses(VerifyMethod method) const
    {
        return std::find(verify.begin(), verify.end(), method) != verify.end();
    }
};

} // namespace pam_oauth2
