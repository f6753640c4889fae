#include "daemon_config.hpp"

#include "broker_protocol.h"
#include "config_file.hpp"
#include "config_reader.hpp"
#include "logger.hpp"
#include "redis_endpoint.hpp"
#include "secure_string.hpp"
#include "session_terminator.hpp"
#include "settings.hpp"
#include "shared_cache_setup.hpp"
#include "text.hpp"
#include "url_policy.hpp"

#include <nlohmann/json.hpp>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <utility>

#ifndef PAM_OAUTH2_DAEMON_USER
#define PAM_OAUTH2_DAEMON_USER "pam_oauth2"
#endif

namespace pam_oauth2 {
namespace {

using Problem = std::optional<std::string>;
using C = DaemonConfig;

std::optional<uid_t> uid_of(const std::string& name)
{
    uid_t numeric = 0;
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), numeric);
    if (error == std::errc() && end == name.data() + name.size()) {
        return numeric;
    }
    char buffer[4096];
    passwd entry{};
    passwd* found = nullptr;
    if (getpwnam_r(name.c_str(), &entry, buffer, sizeof buffer, &found) != 0 || found == nullptr) {
        return std::nullopt;
    }
    return found->pw_uid;
}

Problem set_number(long& target, std::string_view value, long minimum, long maximum)
{
    long parsed = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (error != std::errc() || end != value.data() + value.size() || parsed < minimum || parsed > maximum) {
        return "must be a whole number from " + std::to_string(minimum) + " to " + std::to_string(maximum);
    }
    target = parsed;
    return std::nullopt;
}

template <typename Item> std::string join(const std::vector<Item>& items)
{
    std::string joined;
    for (const auto& item : items) {
        if constexpr (std::is_same_v<Item, std::string>) {
            joined.append(joined.empty() ? "" : ",").append(item);
        } else {
            joined.append(joined.empty() ? "" : ",").append(std::to_string(item));
        }
    }
    return joined;
}

// An allow_hosts entry (host, host:port, [v6] or [v6]:port) as its host and its port ("" when none).
std::pair<std::string, std::string> split_host_entry(const std::string& entry)
{
    const std::size_t close = entry.front() == '[' ? entry.find(']') : std::string::npos;
    if (close != std::string::npos) {
        const bool has_port = close + 1 < entry.size() && entry[close + 1] == ':';
        return {entry.substr(1, close - 1), has_port ? entry.substr(close + 2) : std::string()};
    }
    const std::size_t colon = entry.find(':');
    if (colon == std::string::npos) {
        return {entry, ""};
    }
    return {entry.substr(0, colon), entry.substr(colon + 1)};
}

// --- how each key is read and shown -------------------------------------------------------------------

template <long C::*Field, long Minimum, long Maximum> Problem set_long(C& config, std::string_view value)
{
    return set_number(config.*Field, value, Minimum, Maximum);
}

// The PAM line's rule (core/option_table.cpp): 0, or no shorter than min_recheck_seconds.
Problem set_recheck(C& config, std::string_view value)
{
    long parsed = 0;
    if (auto problem = set_number(parsed, value, 0, max_recheck_seconds)) {
        return problem;
    }
    if (parsed > 0 && parsed < min_recheck_seconds) {
        return "must be 0 (off) or a whole number from " + std::to_string(min_recheck_seconds) + " to " +
               std::to_string(max_recheck_seconds);
    }
    config.session_recheck = parsed;
    return std::nullopt;
}

template <long C::*Field> std::string show_long(const C& config)
{
    return std::to_string(config.*Field);
}

template <std::string C::*Field> std::string show_text(const C& config)
{
    return config.*Field;
}

Problem set_socket(C& config, std::string_view value)
{
    if (value.empty() || value.front() != '/') {
        return std::string("must be an absolute path");
    }
    config.socket = std::string(value);
    return std::nullopt;
}

Problem set_user(C& config, std::string_view value)
{
    config.user = std::string(value);
    return std::nullopt;
}

Problem set_allow_users(C& config, std::string_view value)
{
    config.allow_uids.clear();
    for (const auto& name : split_list(value)) {
        const auto uid = uid_of(name);
        if (!uid) {
            return std::string("names an unknown user");
        }
        config.allow_uids.push_back(*uid);
    }
    return std::nullopt;
}

std::string show_allow_users(const C& config)
{
    return join(config.allow_uids);
}

Problem set_allow_hosts(C& config, std::string_view value)
{
    config.allow_hosts.clear();
    for (auto entry : split_list(value)) {
        std::transform(entry.begin(), entry.end(), entry.begin(), ascii_lower);
        if (entry.find('/') != std::string::npos || entry.front() == ':') {
            return std::string("takes host names (or host:port), not URLs");
        }
        const auto [host, port] = split_host_entry(entry);
        const std::size_t close = entry.front() == '[' ? entry.find(']') : 0;
        const bool bad_brackets =
            close == std::string::npos || (close != 0 && close + 1 < entry.size() && entry[close + 1] != ':');
        long number = 0;
        if (host.empty() || bad_brackets || entry.back() == ':' ||
            (!port.empty() && set_number(number, port, 1, 65535))) {
            return std::string("takes host or host:port with a port from 1 to 65535 (a host alone means port 443)");
        }
        config.allow_hosts.push_back(entry);
    }
    return std::nullopt;
}

std::string show_allow_hosts(const C& config)
{
    return join(config.allow_hosts);
}

// Absolute directories without a trailing '/', '.', '..' or an empty component, so that conf_policy
// can compare a client's conf= path with them by plain text.
Problem set_conf_dirs(C& config, std::string_view value)
{
    config.conf_dirs.clear();
    for (auto directory : split_list(value)) {
        while (directory.size() > 1 && directory.back() == '/') {
            directory.pop_back();
        }
        // With a '/' appended, every '.' or '..' component (the last one too) reads "/./" or "/../".
        const std::string closed = directory + '/';
        if (directory.front() != '/' || directory == "/" || closed.find("//") != std::string::npos ||
            closed.find("/./") != std::string::npos || closed.find("/../") != std::string::npos) {
            return std::string("takes absolute directories other than / (without . or ..)");
        }
        config.conf_dirs.push_back(directory);
    }
    return std::nullopt;
}

std::string show_conf_dirs(const C& config)
{
    return join(config.conf_dirs);
}

// conf_users = PATH USER[,USER...]: one line per file or directory, each line adding a binding (the
// only key that may be repeated: a reviewer reads one line per file). Checked like conf_dirs, so that
// conf_policy can compare a client's conf= path with it by plain text.
Problem set_conf_users(C& config, std::string_view value)
{
    const auto blank = value.find_first_of(" \t");
    const std::string path(value.substr(0, blank));
    const std::string closed = !path.empty() && path.back() == '/' ? path : path + '/';
    if (blank == std::string_view::npos || closed.front() != '/' || path == "/" ||
        closed.find("//") != std::string::npos || closed.find("/./") != std::string::npos ||
        closed.find("/../") != std::string::npos) {
        return std::string("takes an absolute file (or directory/) other than / without . or .., then users: "
                           "conf_users = /etc/pam_oauth2/postgresql.conf postgres");
    }
    ConfBinding binding{path, {}};
    for (const auto& name : split_list(value.substr(blank))) {
        const auto uid = uid_of(name);
        if (!uid) {
            return std::string("names an unknown user");
        }
        binding.uids.push_back(*uid);
    }
    if (binding.uids.empty()) {
        return std::string("names no user");
    }
    config.conf_users.push_back(std::move(binding));
    return std::nullopt;
}

std::string show_conf_users(const C& config)
{
    std::string shown;
    for (const auto& binding : config.conf_users) {
        shown.append(shown.empty() ? "" : "; ").append(binding.path).append(" ").append(join(binding.uids));
    }
    return shown;
}

Problem set_metrics(C& config, std::string_view value)
{
    if (!value.empty() && value.substr(0, 6) != "unix:/") {
        const auto colon = value.rfind(':');
        if (colon == std::string_view::npos || !is_loopback_host(std::string(value.substr(0, colon)))) {
            return std::string(
                "must be unix:/path or a loopback HOST:PORT (metrics are never served beyond this machine)");
        }
        long port = 0;
        if (auto problem = set_number(port, value.substr(colon + 1), 1, 65535)) {
            return problem;
        }
    }
    config.metrics = std::string(value);
    return std::nullopt;
}

// --- the shared cache ----------------------------------------------------------------------------------

Problem set_shared_cache(C& config, std::string_view value)
{
    if (!value.empty()) {
        auto endpoint = shared_cache::parse_redis_endpoint(value);
        if (!endpoint.ok()) {
            return "is not a Redis endpoint: " + endpoint.error();
        }
    }
    config.shared_cache = std::string(value);
    return std::nullopt;
}

template <std::string C::*Field> Problem set_absolute_file(C& config, std::string_view value)
{
    if (!value.empty() && value.front() != '/') {
        return std::string("must be an absolute path");
    }
    config.*Field = std::string(value);
    return std::nullopt;
}

// Names are prefix + hex digits; the prefix is what a Redis ACL grants (~prefix*), so it must be
// plain: no blank, no glob character, no control byte.
Problem set_shared_cache_prefix(C& config, std::string_view value)
{
    const bool plain = std::all_of(value.begin(), value.end(), [](char c) {
        return c > ' ' && c < 127 && c != '*' && c != '?' && c != '[' && c != ']' && c != '\\';
    });
    if (value.empty() || value.size() > 64 || !plain) {
        return std::string("takes 1 to 64 printable characters without blanks, *, ?, [, ] or \\");
    }
    config.shared_cache_prefix = std::string(value);
    return std::nullopt;
}

// --- the availability shares: a number, or auto (0) for a share of max_clients -----------------------

template <long C::*Field> Problem set_share(C& config, std::string_view value)
{
    if (value == "auto") {
        config.*Field = 0;
        return std::nullopt;
    }
    if (auto problem = set_number(config.*Field, value, 1, 65536)) {
        return *problem + ", or auto";
    }
    return std::nullopt;
}

template <long C::*Field> std::string show_share(const C& config)
{
    return config.*Field == 0 ? "auto" : std::to_string(config.*Field);
}

long share(const C& config, long configured, long numerator, long denominator)
{
    const long derived = std::max(1L, config.max_clients * numerator / denominator);
    return std::min(configured == 0 ? derived : configured, config.max_clients);
}

// --- the audit trail --------------------------------------------------------------------------------

Problem set_audit(C& config, std::string_view value)
{
    if (value != "off" && value != "syslog" && (value.empty() || value.front() != '/')) {
        return std::string("must be off, syslog or an absolute file path");
    }
    config.audit = std::string(value);
    return std::nullopt;
}

// --- back-channel logout ------------------------------------------------------------------------------

// Loopback only unless TLS is on: checked with the TLS keys (logout_listen_problem), which may come later.
Problem set_logout_listen(C& config, std::string_view value)
{
    if (!value.empty()) {
        const auto colon = value.rfind(':');
        long port = 0;
        if (colon == std::string_view::npos || colon == 0 || set_number(port, value.substr(colon + 1), 1024, 65535)) {
            // Bound after privileges are dropped, hence no port under 1024.
            return std::string("must be a HOST:PORT, port 1024 or above (put the site's reverse proxy in front of it)");
        }
    }
    config.logout_listen = std::string(value);
    return std::nullopt;
}

// The rules between logout_listen and its TLS keys.
Problem logout_listen_problem(const C& config)
{
    const bool tls = !config.logout_tls_cert_file.empty();
    if (tls != !config.logout_tls_key_file.empty()) {
        return std::string("logout_tls_cert_file and logout_tls_key_file go together: set both (TLS on the logout "
                           "endpoint) or neither");
    }
    if (tls && config.logout_listen.empty()) {
        return std::string("logout_tls_cert_file and logout_tls_key_file need logout_listen");
    }
    const auto colon = config.logout_listen.rfind(':');
    if (!tls && !config.logout_listen.empty() && !is_loopback_host(config.logout_listen.substr(0, colon))) {
        // In clear text, only this machine (the site's reverse proxy) may reach it.
        return std::string("logout_listen must be a loopback HOST:PORT unless logout_tls_cert_file and "
                           "logout_tls_key_file are set (put the site's reverse proxy in front of it)");
    }
    return std::nullopt;
}

// logout_issuer = ISSUER CLIENT_ID: repeated, one line per issuer (like conf_users).
Problem set_logout_issuer(C& config, std::string_view value)
{
    const auto blank = value.find_first_of(" \t");
    const auto rest = blank == std::string_view::npos ? std::string_view() : value.substr(blank);
    const auto names = split_list(rest);
    const std::string issuer(value.substr(0, blank));
    if (issuer.rfind("https://", 0) != 0 || names.size() != 1) {
        return std::string("takes an https issuer and one client id: "
                           "logout_issuer = https://idp.example.com/realms/corp pam-oauth2");
    }
    config.logout_issuers.push_back(LogoutIssuer{issuer, names.front()});
    return std::nullopt;
}

std::string show_logout_issuers(const C& config)
{
    std::string shown;
    for (const auto& entry : config.logout_issuers) {
        shown.append(shown.empty() ? "" : "; ").append(entry.issuer).append(" ").append(entry.client_id);
    }
    return shown;
}

// --- ending sessions ----------------------------------------------------------------------------------

template <bool C::*Field> Problem set_flag(C& config, std::string_view value)
{
    if (value == "yes" || value == "true" || value == "on" || value == "1") {
        config.*Field = true;
    } else if (value == "no" || value == "false" || value == "off" || value == "0") {
        config.*Field = false;
    } else {
        return std::string("takes yes/no, true/false, on/off or 1/0");
    }
    return std::nullopt;
}

template <bool C::*Field> std::string show_flag(const C& config)
{
    return config.*Field ? "on" : "off";
}

// The conninfo file may belong to root, or to the daemon's user: after dropping root a reload reads it
// as that user.
std::optional<std::string> load_conninfo(C& config)
{
    const uid_t owner = ::geteuid() != 0 ? ::geteuid() : uid_of(config.user).value_or(0);
    auto read = read_conninfo_file(config.session_terminate_conninfo_file, owner);
    if (!read.ok()) {
        return "session_terminate_conninfo_file " + read.error();
    }
    config.session_terminate_conninfo = std::make_shared<const SecureString>(std::move(read.value()));
    return std::nullopt;
}

// --- the table ----------------------------------------------------------------------------------------

constexpr DaemonOptionSpec daemon_options[] = {
    {"allow_users", "users (names or uids) whose processes are answered (SO_PEERCRED); required", false,
     &set_allow_users, &show_allow_users},
    {"allow_hosts", "the only identity provider hosts the daemon contacts: host (port 443 only) or host:port", false,
     &set_allow_hosts, &show_allow_hosts},
    {"max_provider_requests", "concurrent requests per identity provider host", false,
     &set_long<&C::max_provider_requests, 1, 1024>, &show_long<&C::max_provider_requests>},
    {"negative_cache", "seconds a refused (arguments, user, token) is answered from memory", false,
     &set_long<&C::negative_cache_seconds, 0, 300>, &show_long<&C::negative_cache_seconds>},
    {"max_clients", "connections served at once; more wait in the socket's backlog", false,
     &set_long<&C::max_clients, 1, 65536>, &show_long<&C::max_clients>},
    {"max_clients_per_user", "connections one peer uid may hold at once; auto: three quarters of max_clients", false,
     &set_share<&C::max_clients_per_user>, &show_share<&C::max_clients_per_user>},
    {"max_logins_per_service", "requests of one PAM service served at once; auto: half of max_clients", false,
     &set_share<&C::max_logins_per_service>, &show_share<&C::max_logins_per_service>},
    {"max_provider_waiting", "logins waiting for a max_provider_requests slot per host; auto: max_clients / 4", false,
     &set_share<&C::max_provider_waiting>, &show_share<&C::max_provider_waiting>},
    {"cache_entries", "discovery documents, JWKS and verdicts kept in memory", false,
     &set_long<&C::cache_entries, 0, 10000000>, &show_long<&C::cache_entries>},
    {"cache_bytes", "bytes those entries may weigh together; the oldest go first", false,
     &set_long<&C::cache_bytes, 0, 1L << 40>, &show_long<&C::cache_bytes>},
    {"conf_dirs", "the only directories whose files a client may name as conf=; empty: no conf= at all", false,
     &set_conf_dirs, &show_conf_dirs},
    {"conf_users",
     "PATH USER,...: the only users whose processes may name conf= file PATH (or files below PATH/); "
     "repeat per file; a conf= file named in no line is refused",
     false, &set_conf_users, &show_conf_users},
    {"metrics", "Prometheus text on a loopback HOST:PORT or unix:/path; off when unset", false, &set_metrics,
     &show_text<&C::metrics>},
    {"shared_cache",
     "the fleet's Redis: redis://, rediss:// (TLS) or redis[s]+sentinel://h1,h2/master/db; off when unset", false,
     &set_shared_cache, &show_text<&C::shared_cache>},
    {"shared_cache_key_file",
     "the fleet secret (at least 32 bytes) entries are named and sealed with; required "
     "with shared_cache",
     false, &set_absolute_file<&C::shared_cache_key_file>, &show_text<&C::shared_cache_key_file>},
    {"shared_cache_previous_key_file", "the previous fleet secret, still accepted on read during a rotation", false,
     &set_absolute_file<&C::shared_cache_previous_key_file>, &show_text<&C::shared_cache_previous_key_file>},
    {"shared_cache_password_file", "the Redis password (of the ACL user named in the URL's user@ part)", false,
     &set_absolute_file<&C::shared_cache_password_file>, &show_text<&C::shared_cache_password_file>},
    {"shared_cache_ca_file", "CA certificates the rediss:// server must chain to; the system's when unset", false,
     &set_absolute_file<&C::shared_cache_ca_file>, &show_text<&C::shared_cache_ca_file>},
    {"shared_cache_tls_cert", "client certificate sent to a rediss:// server (with shared_cache_tls_key)", false,
     &set_absolute_file<&C::shared_cache_tls_cert>, &show_text<&C::shared_cache_tls_cert>},
    {"shared_cache_tls_key", "the client certificate's private key", false,
     &set_absolute_file<&C::shared_cache_tls_key>, &show_text<&C::shared_cache_tls_key>},
    {"shared_cache_budget_ms", "milliseconds a login may spend on the shared cache per lookup or write", false,
     &set_long<&C::shared_cache_budget_ms, 10, 5000>, &show_long<&C::shared_cache_budget_ms>},
    {"shared_cache_prefix", "what every entry name in Redis starts with (grant the ACL ~PREFIX*)", false,
     &set_shared_cache_prefix, &show_text<&C::shared_cache_prefix>},
    {"shared_cache_lease_ms",
     "milliseconds one host owns the refresh of a missing or stale document, the others waiting for it", false,
     &set_long<&C::shared_cache_lease_ms, 0, 10000>, &show_long<&C::shared_cache_lease_ms>},
    {"socket", "where to listen without socket activation", false, &set_socket, &show_text<&C::socket>},
    {"user", "the user to become after listening, when started as root", false, &set_user, &show_text<&C::user>},
    {"audit", "one JSON event per decision: off, syslog (LOG_AUTHPRIV) or an absolute file path (reopened on SIGHUP)",
     false, &set_audit, &show_text<&C::audit>},
    {"logout_listen", "OpenID Connect back-channel logout endpoint on a loopback HOST:PORT; off when unset", false,
     &set_logout_listen, &show_text<&C::logout_listen>},
    {"logout_issuer", "ISSUER CLIENT_ID: an issuer whose logout tokens are accepted, for that client; repeatable",
     false, &set_logout_issuer, &show_logout_issuers},
    {"logout_ca_file", "CA certificates the issuers' discovery and JWKS servers must chain to; the system's when unset",
     false, &set_absolute_file<&C::logout_ca_file>, &show_text<&C::logout_ca_file>},
    {"logout_rate", "logout requests per second (token bucket, bursts as large); more get 429", false,
     &set_long<&C::logout_rate, 1, 10000>, &show_long<&C::logout_rate>},
    {"logout_max_age", "seconds a logout token's iat may be old (plus 60 s of leeway)", false,
     &set_long<&C::logout_max_age, 10, 3600>, &show_long<&C::logout_max_age>},
    {"logout_tls_cert_file",
     "PEM certificate chain (leaf first) the logout endpoint serves TLS with; with logout_tls_key_file, "
     "read at start",
     false, &set_absolute_file<&C::logout_tls_cert_file>, &show_text<&C::logout_tls_cert_file>},
    {"logout_tls_key_file",
     "the certificate's unencrypted PEM private key (owned by root or the daemon's user, mode 0400 or 0600)", false,
     &set_absolute_file<&C::logout_tls_key_file>, &show_text<&C::logout_tls_key_file>},
    {"session_end_at_expiry",
     "end a tracked session at the token's exp plus session_grace, for PAM lines that do "
     "not say",
     false, &set_flag<&C::session_end_at_expiry>, &show_flag<&C::session_end_at_expiry>},
    {"session_grace", "seconds after exp before the session is ended, for PAM lines that do not say", false,
     &set_long<&C::session_grace, 0, 86400>, &show_long<&C::session_grace>},
    {"session_max_age",
     "seconds after the login a session is ended whatever the token (0: never), for PAM lines "
     "that do not say",
     false, &set_long<&C::session_max_age, 0, 31536000>, &show_long<&C::session_max_age>},
    {"session_end_on_logout",
     "end a tracked session on the provider's back-channel logout, for PAM lines that do "
     "not say",
     false, &set_flag<&C::session_end_on_logout>, &show_flag<&C::session_end_on_logout>},
    {"session_recheck",
     "seconds between re-checks of a tracked session's opaque token at the provider (0: never), for PAM "
     "lines that do not say",
     false, &set_recheck, &show_long<&C::session_recheck>},
    {"max_tracked_sessions", "sessions tracked at most; a login over it is not tracked (logged, counted)", false,
     &set_long<&C::max_tracked_sessions, 1, 1000000>, &show_long<&C::max_tracked_sessions>},
    {"session_terminate_conninfo_file",
     "file holding the libpq connection string sessions are ended through "
     "(root-only; a role with pg_signal_backend)",
     false, &set_absolute_file<&C::session_terminate_conninfo_file>, &show_text<&C::session_terminate_conninfo_file>},
};

const DaemonOptionSpec* find_daemon_option(std::string_view name)
{
    const auto found = std::find_if(std::begin(daemon_options), std::end(daemon_options),
                                    [&](const DaemonOptionSpec& spec) { return spec.name == name; });
    return found == std::end(daemon_options) ? nullptr : found;
}

std::string shown(const DaemonOptionSpec& spec, const DaemonConfig& config)
{
    const std::string value = spec.show(config);
    return spec.secret && !value.empty() ? "<redacted>" : value;
}

std::optional<std::string> apply_lines(DaemonConfig& config, const std::string& path, std::string_view text)
{
    auto read = read_config_lines(text, "");
    if (auto* error = std::get_if<ConfigSyntaxError>(&read)) {
        return path + " line " + std::to_string(error->number) + ": " + error->problem;
    }
    for (const auto& line : std::get<std::vector<ConfigLine>>(read)) {
        const std::string where = path + " line " + std::to_string(line.number) + ": ";
        if (!line.value) {
            return where + "expected key = value";
        }
        const std::string key(line.key);
        const DaemonOptionSpec* spec = find_daemon_option(key);
        if (spec == nullptr) {
            // Only the line's number: the file's content is never echoed (see unknown_line).
            return path + " " + unknown_line(line, "pam_oauth2d option");
        }
        if (auto problem = spec->set(config, *line.value)) {
            return where + key + " " + *problem;
        }
    }
    return std::nullopt;
}

} // namespace

DaemonOptionTable daemon_option_table() noexcept
{
    return {std::begin(daemon_options), std::end(daemon_options)};
}

DaemonConfig default_daemon_config()
{
    DaemonConfig config;
    config.socket = BROKER_DEFAULT_SOCKET;
    config.user = PAM_OAUTH2_DAEMON_USER;
    config.conf_dirs = {"/etc/pam_oauth2"};
    return config;
}

std::variant<DaemonConfig, std::string> load_daemon_config(const std::string& path)
{
    auto file = read_config_file(path, 0, "pam_oauth2d configuration");
    if (auto* error = std::get_if<ConfigError>(&file)) {
        return error->message;
    }
    DaemonConfig config = default_daemon_config();
    config.path = path;
    if (auto problem = apply_lines(config, path, std::get<ConfigFileText>(file).text)) {
        return *problem;
    }
    if (config.allow_uids.empty()) {
        return path + ": allow_users is empty, so no process could use pam_oauth2d";
    }
    if (auto problem = logout_listen_problem(config)) {
        return path + ": " + *problem;
    }
    if (!config.logout_listen.empty() && config.logout_issuers.empty()) {
        return path + ": logout_listen is set but no logout_issuer names whose logout tokens to accept";
    }
    for (const auto& entry : config.logout_issuers) {
        if (!host_allowed(config.allow_hosts, entry.issuer)) {
            return path + ": logout_issuer " + entry.issuer + " is not on a host in allow_hosts";
        }
    }
    if (!config.shared_cache.empty()) {
        auto setup = load_shared_cache_setup(config);
        if (!setup.ok()) {
            return path + ": " + setup.error();
        }
        config.shared_cache_setup = setup.value();
    }
    if (!config.session_terminate_conninfo_file.empty()) {
        if (auto problem = load_conninfo(config)) {
            return path + ": " + *problem;
        }
    }
    return config;
}

long clients_per_user(const DaemonConfig& config)
{
    return share(config, config.max_clients_per_user, 3, 4);
}

long logins_per_service(const DaemonConfig& config)
{
    return share(config, config.max_logins_per_service, 1, 2);
}

long provider_waiting(const DaemonConfig& config)
{
    return share(config, config.max_provider_waiting, 1, 4);
}

bool host_allowed(const std::vector<std::string>& allow_hosts, std::string_view url)
{
    const auto target = url_host(url);
    if (!target) {
        return false;
    }
    for (const auto& entry : allow_hosts) {
        const auto [host, port] = split_host_entry(entry);
        // A host-only entry is the https default, port 443: it never admits another port on that host
        // (a peer's own listener on a loopback port, say). Every other port is written host:port.
        if (host == target->host && (port.empty() ? "443" : port) == target->effective_port) {
            return true;
        }
    }
    return false;
}

std::string describe_daemon_config(const DaemonConfig& config)
{
    std::string out;
    for (const auto& spec : daemon_options) {
        out.append(out.empty() ? "" : " ").append(spec.name).append("=").append(log_value(shown(spec, config)));
    }
    return out;
}

std::string list_daemon_options_json()
{
    const DaemonConfig defaults = default_daemon_config();
    auto listing = nlohmann::json::array();
    for (const auto& spec : daemon_options) {
        listing.push_back({{"name", spec.name},
                           {"default", shown(spec, defaults)},
                           {"secret", spec.secret},
                           {"summary", spec.summary}});
    }
    return listing.dump(2);
}

} // namespace pam_oauth2
