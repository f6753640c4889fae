#include "redis_sentinel.hpp"

#include <algorithm>

namespace pam_oauth2::shared_cache {
namespace {

// The reply to SENTINEL get-master-addr-by-name: [ip, port], nil for a name it does not monitor.
Fallible<RedisHost> read_address(const RedisReply& reply, const std::string& sentinel, const std::string& master)
{
    if (reply.type == RedisReply::Type::Nil) {
        return Failure{sentinel + " does not know master '" + master + "'"};
    }
    if (reply.is_error()) {
        return Failure{sentinel + " refused SENTINEL get-master-addr-by-name: " + reply.text};
    }
    const bool two_strings = reply.type == RedisReply::Type::Array && reply.elements.size() == 2 &&
                             reply.elements[0].type == RedisReply::Type::String &&
                             reply.elements[1].type == RedisReply::Type::String;
    if (two_strings) {
        // The address goes through the endpoint parser: the same rules as a configured one.
        const auto& host = reply.elements[0].text;
        const bool v6 = host.find(':') != std::string::npos;
        auto parsed = parse_redis_endpoint("redis://" + (v6 ? "[" + host + "]" : host) + ":" + reply.elements[1].text);
        if (parsed.ok()) {
            return parsed.value().hosts.front();
        }
    }
    return Failure{sentinel + " answered SENTINEL get-master-addr-by-name with something that is not an address"};
}

Fallible<RedisHost> ask_one(RedisConnectionSettings settings, const RedisHost& sentinel, const std::string& master,
                            Deadline deadline)
{
    settings.host = sentinel;
    settings.database = 0; // Sentinels have no databases
    auto connection = RedisConnection::open(settings, deadline);
    if (!connection.ok()) {
        return Failure{connection.error()};
    }
    auto reply = connection.value()->command({"SENTINEL", "get-master-addr-by-name", master}, deadline);
    if (!reply.ok()) {
        return Failure{reply.error()};
    }
    return read_address(reply.value(), "Sentinel " + display(sentinel), master);
}

} // namespace

Fallible<RedisHost> discover_primary(const RedisEndpoint& endpoint, const RedisConnectionSettings& sentinel,
                                     Deadline deadline)
{
    if (endpoint.topology != RedisTopology::Sentinel || endpoint.hosts.empty()) {
        return Failure{"not a Sentinel endpoint"};
    }
    std::string reasons;
    for (std::size_t i = 0; i < endpoint.hosts.size(); ++i) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            reasons += reasons.empty() ? "" : "; ";
            reasons += "no time left for Sentinel " + display(endpoint.hosts[i]);
            break;
        }
        const auto share = (deadline - now) / static_cast<long>(endpoint.hosts.size() - i);
        auto found = ask_one(sentinel, endpoint.hosts[i], endpoint.master_name, std::min(deadline, now + share));
        if (found.ok()) {
            return found;
        }
        reasons += (reasons.empty() ? "" : "; ") + found.error();
    }
    return Failure{"no Sentinel named the primary of '" + endpoint.master_name + "': " + reasons};
}

Fallible<std::unique_ptr<RedisConnection>> open_primary(const RedisEndpoint& endpoint, const SentinelSettings& settings,
                                                        Deadline deadline)
{
    auto address = discover_primary(endpoint, settings.sentinel, deadline);
    if (!address.ok()) {
        return Failure{address.error()};
    }
    RedisConnectionSettings primary = settings.primary;
    primary.host = address.value();
    auto connection = RedisConnection::open(primary, deadline);
    if (!connection.ok()) {
        return Failure{connection.error()};
    }
    auto role = connection.value()->command({"ROLE"}, deadline);
    if (!role.ok()) {
        return Failure{role.error()};
    }
    const auto& reply = role.value();
    const bool is_master = reply.type == RedisReply::Type::Array && !reply.elements.empty() &&
                           reply.elements[0].type == RedisReply::Type::String && reply.elements[0].text == "master";
    if (!is_master) {
        return Failure{"redis " + display(primary.host) + ", named primary of '" + endpoint.master_name +
                       "' by a Sentinel, is not a primary (ROLE: " +
                       (reply.is_error()         ? reply.text
                        : reply.elements.empty() ? std::string("?")
                                                 : reply.elements[0].text) +
                       ")"};
    }
    return connection;
}

} // namespace pam_oauth2::shared_cache
