#include "redis_endpoint.hpp"

#include <arpa/inet.h>

#include <array>
#include <optional>

namespace pam_oauth2::shared_cache {
namespace {

struct Scheme {
    std::string_view name;
    RedisTopology topology;
    bool tls;
};

constexpr std::array<Scheme, 6> schemes{{
    {"redis", RedisTopology::Standalone, false},
    {"rediss", RedisTopology::Standalone, true},
    {"redis+sentinel", RedisTopology::Sentinel, false},
    {"rediss+sentinel", RedisTopology::Sentinel, true},
    {"redis+cluster", RedisTopology::Cluster, false},
    {"rediss+cluster", RedisTopology::Cluster, true},
}};

constexpr std::uint16_t redis_port = 6379;
constexpr std::uint16_t sentinel_port = 26379;
constexpr int max_database = 15;
constexpr std::size_t max_hosts = 16;

Failure fail(std::string_view text, const std::string& why)
{
    return Failure{"shared cache endpoint '" + std::string(text) + "': " + why};
}

bool is_digits(std::string_view text)
{
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// ACL user names are free-form in Redis; ours must survive a log line and a URL unescaped.
bool is_user_name(std::string_view text)
{
    return !text.empty() && text.size() <= 128 &&
           text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
               std::string_view::npos;
}

bool is_host_name(std::string_view text)
{
    return !text.empty() && text.size() <= 253 && text.front() != '-' && text.front() != '.' &&
           text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
               std::string_view::npos;
}

std::optional<std::uint16_t> parse_port(std::string_view text)
{
    if (!is_digits(text) || text.size() > 5) {
        return std::nullopt;
    }
    unsigned value = 0;
    for (const char digit : text) {
        value = value * 10 + static_cast<unsigned>(digit - '0');
    }
    if (value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

// One "host[:port]" or "[v6]:port" of the comma-separated list.
Fallible<RedisHost> parse_host(std::string_view item, std::uint16_t default_port)
{
    RedisHost host;
    std::string_view port_text;
    bool has_port = false;
    if (!item.empty() && item.front() == '[') {
        const auto close = item.find(']');
        if (close == std::string_view::npos) {
            return Failure{"'" + std::string(item) + "' opens '[' without ']'"};
        }
        host.host = std::string(item.substr(1, close - 1));
        in6_addr address{};
        if (inet_pton(AF_INET6, host.host.c_str(), &address) != 1) {
            return Failure{"'" + host.host + "' in brackets is not an IPv6 address"};
        }
        const auto rest = item.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') {
            return Failure{"unexpected '" + std::string(rest) + "' after ']'"};
        }
        has_port = !rest.empty();
        port_text = has_port ? rest.substr(1) : std::string_view{};
    } else {
        const auto colon = item.rfind(':');
        if (colon != std::string_view::npos && item.find(':') != colon) {
            return Failure{"'" + std::string(item) + "': an IPv6 address needs brackets, as [::1]:6379"};
        }
        has_port = colon != std::string_view::npos;
        host.host = std::string(item.substr(0, colon));
        port_text = has_port ? item.substr(colon + 1) : std::string_view{};
        if (!is_host_name(host.host)) {
            return Failure{host.host.empty() ? std::string("a host is empty")
                                             : "'" + host.host + "' is not a host name or address"};
        }
    }
    const auto port = has_port ? parse_port(port_text) : std::optional<std::uint16_t>(default_port);
    if (!port) {
        return Failure{"port '" + std::string(port_text) + "' is not a number from 1 to 65535"};
    }
    host.port = *port;
    return host;
}

Fallible<std::vector<RedisHost>> parse_hosts(std::string_view list, std::uint16_t default_port)
{
    std::vector<RedisHost> hosts;
    std::size_t start = 0;
    for (;;) {
        const auto comma = list.find(',', start);
        auto host =
            parse_host(list.substr(start, comma == std::string_view::npos ? comma : comma - start), default_port);
        if (!host.ok()) {
            return Failure{host.error()};
        }
        hosts.push_back(std::move(host).value());
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    if (hosts.size() > max_hosts) {
        return Failure{"more than " + std::to_string(max_hosts) + " addresses"};
    }
    return hosts;
}

Fallible<int> parse_database(std::string_view text)
{
    if (!is_digits(text) || text.size() > 2 || std::stoi(std::string(text)) > max_database) {
        return Failure{"database '" + std::string(text) + "' is not a number from 0 to " +
                       std::to_string(max_database)};
    }
    return std::stoi(std::string(text));
}

const Scheme* find_scheme(std::string_view name)
{
    for (const auto& scheme : schemes) {
        if (scheme.name == name) {
            return &scheme;
        }
    }
    return nullptr;
}

// The part after "authority": "" | "/db" (standalone, cluster) or "/name" | "/name/db" (Sentinel).
Fallible<std::string> parse_path(std::string_view path, RedisEndpoint& endpoint)
{
    if (endpoint.topology == RedisTopology::Sentinel) {
        if (path.size() < 2) {
            return Failure{"a Sentinel endpoint needs the master name: redis+sentinel://h1,h2/master-name/db"};
        }
        path.remove_prefix(1);
        const auto slash = path.find('/');
        endpoint.master_name = std::string(path.substr(0, slash));
        if (!is_user_name(endpoint.master_name)) {
            return Failure{"master name '" + endpoint.master_name +
                           "' is empty or has characters outside A-Z a-z 0-9 . _ -"};
        }
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
    }
    if (path.empty() || path == "/") {
        return std::string();
    }
    auto database = parse_database(path.substr(1));
    if (!database.ok()) {
        return Failure{database.error()};
    }
    if (endpoint.topology == RedisTopology::Cluster && database.value() != 0) {
        return Failure{"a Redis Cluster has only database 0"};
    }
    endpoint.database = database.value();
    return std::string();
}

} // namespace

Fallible<RedisEndpoint> parse_redis_endpoint(std::string_view text)
{
    const auto separator = text.find("://");
    const Scheme* scheme = separator == std::string_view::npos ? nullptr : find_scheme(text.substr(0, separator));
    if (scheme == nullptr) {
        // Only the scheme is echoed: the rest of an unknown URL may hold a password.
        return Failure{"shared cache endpoint: the scheme " +
                       (separator == std::string_view::npos
                            ? std::string("is missing")
                            : "'" + std::string(text.substr(0, separator)) + "' is unknown") +
                       "; use redis://, rediss://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or "
                       "rediss+cluster://"};
    }
    RedisEndpoint endpoint;
    endpoint.topology = scheme->topology;
    endpoint.tls = scheme->tls;
    auto rest = text.substr(separator + 3);
    // The user part ends at the first '@': a password may hold '/' or '@', and is never echoed.
    const auto at = rest.find('@');
    if (at != std::string_view::npos) {
        const auto user = rest.substr(0, at);
        const auto scheme_only = text.substr(0, separator + 3);
        if (user.find(':') != std::string_view::npos) {
            return fail(scheme_only, "a password in the URL is refused; give it in the password file");
        }
        if (!is_user_name(user)) {
            return fail(scheme_only, "the user before '@' is empty or has characters outside "
                                     "A-Z a-z 0-9 . _ -");
        }
        endpoint.user = std::string(user);
        rest.remove_prefix(at + 1);
    }
    if (rest.find_first_of("?#") != std::string_view::npos) {
        return fail(text, "a query or fragment is not accepted");
    }
    const auto path_start = rest.find('/');
    const auto authority = rest.substr(0, path_start);
    auto hosts = parse_hosts(authority, scheme->topology == RedisTopology::Sentinel ? sentinel_port : redis_port);
    if (!hosts.ok()) {
        return fail(text, hosts.error());
    }
    endpoint.hosts = std::move(hosts).value();
    if (endpoint.topology == RedisTopology::Standalone && endpoint.hosts.size() != 1) {
        return fail(text, "one address only; several are for redis+sentinel:// or redis+cluster://");
    }
    const auto path =
        parse_path(path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start), endpoint);
    if (!path.ok()) {
        return fail(text, path.error());
    }
    return endpoint;
}

std::string display(const RedisHost& host)
{
    const bool v6 = host.host.find(':') != std::string::npos;
    return (v6 ? "[" + host.host + "]" : host.host) + ":" + std::to_string(host.port);
}

} // namespace pam_oauth2::shared_cache
