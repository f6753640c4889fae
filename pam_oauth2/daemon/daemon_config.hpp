#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

struct SharedCacheSetup;
class SecureString;
class TlsServerContext;

// One conf_users line: the conf= file (or, with a trailing '/', every file below the directory) and
// the only users whose processes may name it.
struct ConfBinding {
    std::string path;        // absolute, plain (no '.', '..' or empty component); "/dir/" for a directory
    std::vector<uid_t> uids; // the peers it is bound to
};

// One logout_issuer line: an issuer whose back-channel logout tokens are accepted, and the client id
// (the relying party registered with the logout URI) their aud must name.
struct LogoutIssuer {
    std::string issuer;
    std::string client_id;
};

// pam_oauth2d's own configuration (/etc/pam_oauth2/pam_oauth2d.conf, root-owned): who may ask, which
// identity provider hosts it may contact, and its limits. What a login must satisfy comes from the
// module arguments each client sends, parsed by the same option table as in-process. The defaults
// are those of default_daemon_config().
struct DaemonConfig {
    std::string path;                     // where it was read from
    std::string socket;                   // ignored under socket activation
    std::string user;                     // dropped to when started as root
    std::vector<uid_t> allow_uids;        // peers served (SO_PEERCRED)
    std::vector<std::string> allow_hosts; // host or host:port, lower case
    std::vector<std::string> conf_dirs;   // the only directories a client's conf= may name a file in
    std::vector<ConfBinding> conf_users;  // which peers may name which conf= file (conf_policy)
    long max_provider_requests = 8;       // concurrent requests per identity provider host
    long negative_cache_seconds = 5;      // a refused (user, token, arguments) is answered from memory
    long max_clients = 256;               // connections served at once; more wait in the socket's backlog
    long cache_entries = 100000;          // documents and verdicts kept in memory
    long cache_bytes = 64L * 1024 * 1024; // what those may weigh together
    std::string metrics;                  // "", "HOST:PORT" (loopback only) or "unix:/path"
    // Availability shares (0: auto, derived from max_clients by the functions below).
    long max_clients_per_user = 0;   // connections one peer uid may hold at once
    long max_logins_per_service = 0; // requests of one PAM service being served at once
    long max_provider_waiting = 0;   // logins waiting for a max_provider_requests slot, per host
    // The fleet's shared cache (Redis); off when shared_cache is empty. The files are read at load
    // time into shared_cache_setup (set exactly when shared_cache is).
    std::string shared_cache;
    std::string shared_cache_key_file;
    std::string shared_cache_previous_key_file;
    std::string shared_cache_password_file;
    std::string shared_cache_ca_file;
    std::string shared_cache_tls_cert;
    std::string shared_cache_tls_key;
    long shared_cache_budget_ms = 150;
    std::string shared_cache_prefix = "pam_oauth2:";
    long shared_cache_lease_ms = 1000; // a document's refresh owner holds the fleet's lease this long
    std::shared_ptr<const SharedCacheSetup> shared_cache_setup;
    // The audit trail (docs/audit.md): "off", "syslog" or an absolute file path.
    std::string audit = "off";
    // OpenID Connect back-channel logout; off when logout_listen is empty.
    std::string logout_listen;                // "HOST:PORT", loopback only unless served over TLS
    std::vector<LogoutIssuer> logout_issuers; // whose logout tokens are accepted, each for its client
    std::string logout_ca_file;               // trust for the issuers' discovery and JWKS; system's when empty
    long logout_rate = 10;                    // requests per second (token bucket, bursts as large)
    long logout_max_age = 300;                // seconds a logout token's iat may be old
    // TLS on the logout endpoint: both files or neither. Read once at start (load_logout_tls, before
    // privileges drop) into logout_tls; a reload leaves the running endpoint as it is.
    std::string logout_tls_cert_file;
    std::string logout_tls_key_file;
    std::shared_ptr<const TlsServerContext> logout_tls;
    // Ending sessions (session_tracker): the defaults of the PAM lines' session_* options, the bound,
    // and the libpq connection string file, read at load time into session_terminate_conninfo (set
    // exactly when the file is).
    bool session_end_at_expiry = false;
    long session_grace = 30;
    long session_max_age = 0;
    bool session_end_on_logout = false;
    long session_recheck = 0; // seconds between re-checks of an opaque token; 0: never
    long max_tracked_sessions = 4096;
    std::string session_terminate_conninfo_file;
    std::shared_ptr<const SecureString> session_terminate_conninfo;
};

/// The shares in force: the configured value, or auto (3/4, 1/2 and 1/4 of max_clients, at least 1),
/// never more than max_clients.
long clients_per_user(const DaemonConfig& config);
long logins_per_service(const DaemonConfig& config);
long provider_waiting(const DaemonConfig& config);

// One key of pam_oauth2d.conf, declared once: parsing, the describe line and --list-options (and so
// the documentation check) come from its line in the table.
struct DaemonOptionSpec {
    std::string_view name;
    std::string_view summary;
    bool secret; // shown as <redacted> when set
    /// Stores the value or says what is wrong with it, worded to follow "KEY ".
    std::optional<std::string> (*set)(DaemonConfig& config, std::string_view value);
    /// The value as it would be written in the file ("" when unset).
    std::string (*show)(const DaemonConfig& config);
};

// Every key, in documentation order.
struct DaemonOptionTable {
    const DaemonOptionSpec* first;
    const DaemonOptionSpec* last;
    [[nodiscard]] const DaemonOptionSpec* begin() const { return first; }
    [[nodiscard]] const DaemonOptionSpec* end() const { return last; }
};

/// Every key pam_oauth2d.conf may hold.
DaemonOptionTable daemon_option_table() noexcept;

/// The configuration before any line of the file: every key at its documented default.
DaemonConfig default_daemon_config();

/// Reads and checks the file through the project's one reader (owned by root, not writable by
/// others, every key known, users exist).
std::variant<DaemonConfig, std::string> load_daemon_config(const std::string& path);

/// Whether `url`'s host (and port, when the entry names one) is in `allow_hosts`.
bool host_allowed(const std::vector<std::string>& allow_hosts, std::string_view url);

/// One line describing the configuration, for the start-up log and --check-config: every key of the
/// table, in its order, as `key=value`; secret values show as <redacted>.
std::string describe_daemon_config(const DaemonConfig& config);

/// Every key as a JSON array of {name, default, secret, summary}, for `pam_oauth2d --list-options` and
/// the test that keeps pam_oauth2d(8) in step with the table.
std::string list_daemon_options_json();

} // namespace pam_oauth2
