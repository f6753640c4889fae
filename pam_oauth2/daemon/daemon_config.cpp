#include "daemon_config.hpp"

#include "broker_protocol.h"
#include "config_file.hpp"
#include "text.hpp"
#include "url_policy.hpp"

#include <pwd.h>

#include <charconv>
#include <optional>

#ifndef PAM_OAUTH2_DAEMON_USER
#define PAM_OAUTH2_DAEMON_USER "pam_oauth2"
#endif

namespace pam_oauth2 {
namespace {

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

std::optional<std::string> set_number(long& target, std::string_view value, long minimum, long maximum)
{
    long parsed = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (error != std::errc() || end != value.data() + value.size() || parsed < minimum || parsed > maximum) {
        return "must be a whole number from " + std::to_string(minimum) + " to " + std::to_string(maximum);
    }
    target = parsed;
    return std::nullopt;
}

std::optional<std::string> check_metrics(const std::string& value)
{
    if (value.empty() || value.rfind("unix:/", 0) == 0) {
        return std::nullopt;
    }
    const auto colon = value.rfind(':');
    if (colon == std::string::npos || !is_loopback_host(value.substr(0, colon))) {
        return std::string("must be unix:/path or a loopback HOST:PORT (metrics are never served beyond this machine)");
    }
    long port = 0;
    return set_number(port, std::string_view(value).substr(colon + 1), 1, 65535);
}

std::optional<std::string> apply(DaemonConfig& config, const std::string& key, const std::string& value)
{
    if (key == "socket") {
        if (value.empty() || value.front() != '/') {
            return std::string("must be an absolute path");
        }
        config.socket = value;
    } else if (key == "user") {
        config.user = value;
    } else if (key == "allow_users") {
        config.allow_uids.clear();
        for (const auto& name : split_list(value)) {
            const auto uid = uid_of(name);
            if (!uid) {
                return "names an unknown user '" + log_safe(name) + "'";
            }
            config.allow_uids.push_back(*uid);
        }
    } else if (key == "allow_hosts") {
        config.allow_hosts.clear();
        for (auto host : split_list(value)) {
            for (char& c : host) {
                c = ascii_lower(c);
            }
            if (host.find('/') != std::string::npos || host.front() == ':') {
                return "takes host names (or host:port), not URLs: '" + log_safe(host) + "'";
            }
            config.allow_hosts.push_back(host);
        }
    } else if (key == "max_provider_requests") {
        return set_number(config.max_provider_requests, value, 1, 1024);
    } else if (key == "negative_cache") {
        return set_number(config.negative_cache_seconds, value, 0, 300);
    } else if (key == "max_clients") {
        return set_number(config.max_clients, value, 1, 65536);
    } else if (key == "cache_entries") {
        return set_number(config.cache_entries, value, 0, 10000000);
    } else if (key == "metrics") {
        if (auto problem = check_metrics(value)) {
            return problem;
        }
        config.metrics = value;
    } else {
        return std::string("is not a pam_oauth2d option");
    }
    return std::nullopt;
}

std::string join(const std::vector<std::string>& items)
{
    std::string joined;
    for (const auto& item : items) {
        joined += (joined.empty() ? "" : ",") + item;
    }
    return joined.empty() ? "(none)" : joined;
}

} // namespace

std::variant<DaemonConfig, std::string> load_daemon_config(const std::string& path)
{
    auto file = read_config_file(path, 0, "pam_oauth2d configuration");
    if (auto* error = std::get_if<ConfigError>(&file)) {
        return error->message;
    }
    const std::string& text = std::get<ConfigFileText>(file).text;
    DaemonConfig config;
    config.path = path;
    config.socket = BROKER_DEFAULT_SOCKET;
    config.user = PAM_OAUTH2_DAEMON_USER;
    std::size_t line_number = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = std::min(text.find('\n', start), text.size());
        std::string_view line = std::string_view(text).substr(start, end - start);
        start = end + 1;
        ++line_number;
        const auto comment = line.find('#');
        line = trim(comment == std::string_view::npos ? line : line.substr(0, comment));
        if (line.empty()) {
            continue;
        }
        const auto equals = line.find('=');
        const std::string where = path + " line " + std::to_string(line_number) + ": ";
        if (equals == std::string_view::npos) {
            return where + "expected key = value";
        }
        const std::string key(trim(line.substr(0, equals)));
        if (auto problem = apply(config, key, std::string(trim(line.substr(equals + 1))))) {
            return where + key + " " + *problem;
        }
    }
    if (config.allow_uids.empty()) {
        return path + ": allow_users is empty, so no process could use pam_oauth2d";
    }
    return config;
}

bool host_allowed(const std::vector<std::string>& allow_hosts, std::string_view url)
{
    const auto target = url_host(url);
    if (!target) {
        return false;
    }
    for (const auto& entry : allow_hosts) {
        // host, host:port, [v6] or [v6]:port
        std::string host = entry;
        std::string port;
        const std::size_t close = entry.front() == '[' ? entry.find(']') : std::string::npos;
        const std::size_t colon = close != std::string::npos ? close + 1 : entry.find(':');
        if (close != std::string::npos) {
            host = entry.substr(1, close - 1);
        } else if (colon != std::string::npos) {
            host = entry.substr(0, colon);
        }
        if (colon < entry.size() && entry[colon] == ':') {
            port = entry.substr(colon + 1);
        }
        if (host == target->host && (port.empty() || port == target->port)) {
            return true;
        }
    }
    return false;
}

std::string describe_daemon_config(const DaemonConfig& config)
{
    std::string uids;
    for (const auto uid : config.allow_uids) {
        uids += (uids.empty() ? "" : ",") + std::to_string(uid);
    }
    return "socket=" + config.socket + " allow_uids=" + uids + " allow_hosts=" + join(config.allow_hosts) +
           " max_provider_requests=" + std::to_string(config.max_provider_requests) +
           " negative_cache=" + std::to_string(config.negative_cache_seconds) +
           " max_clients=" + std::to_string(config.max_clients) +
           " cache_entries=" + std::to_string(config.cache_entries) +
           " metrics=" + (config.metrics.empty() ? "off" : config.metrics);
}

} // namespace pam_oauth2
