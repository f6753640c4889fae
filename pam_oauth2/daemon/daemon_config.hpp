#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

// pam_oauth2d's own configuration (/etc/pam_oauth2/pam_oauth2d.conf, root-owned): who may ask, which
// identity provider hosts it may contact, and its limits. What a login must satisfy comes from the
// module arguments each client sends, parsed by the same option table as in-process.
struct DaemonConfig {
    std::string path;                     // where it was read from
    std::string socket;                   // ignored under socket activation
    std::string user;                     // dropped to when started as root
    std::vector<uid_t> allow_uids;        // peers served (SO_PEERCRED)
    std::vector<std::string> allow_hosts; // host or host:port, lower case
    long max_provider_requests = 8;       // concurrent requests per identity provider host
    long negative_cache_seconds = 5;      // a refused (user, token, arguments) is answered from memory
    long max_clients = 256;               // connections served at once; more wait in the socket's backlog
    long cache_entries = 100000;          // documents and verdicts kept in memory
    std::string metrics;                  // "", "HOST:PORT" (loopback only) or "unix:/path"
};

/// Reads and checks the file (owned by root, not writable by others, every key known, users exist).
std::variant<DaemonConfig, std::string> load_daemon_config(const std::string& path);

/// Whether `url`'s host (and port, when the entry names one) is in `allow_hosts`.
bool host_allowed(const std::vector<std::string>& allow_hosts, std::string_view url);

/// One line describing the configuration, for the start-up log and --check-config.
std::string describe_daemon_config(const DaemonConfig& config);

} // namespace pam_oauth2
