#include "redis_cluster.hpp"

#include <cstdint>

namespace pam_oauth2::shared_cache {
namespace {

std::uint16_t crc16_xmodem(std::string_view bytes)
{
    std::uint16_t crc = 0;
    for (const char byte : bytes) {
        crc = static_cast<std::uint16_t>(crc ^ (static_cast<unsigned char>(byte) << 8));
        for (int bit = 0; bit < 8; ++bit) {
            crc = static_cast<std::uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
        }
    }
    return crc;
}

} // namespace

int key_slot(std::string_view key)
{
    const auto open = key.find('{');
    if (open != std::string_view::npos) {
        const auto close = key.find('}', open + 1);
        if (close != std::string_view::npos && close > open + 1) {
            key = key.substr(open + 1, close - open - 1);
        }
    }
    return crc16_xmodem(key) % cluster_slots;
}

std::optional<RedisRedirect> parse_redirect(const RedisReply& reply)
{
    if (!reply.is_error()) {
        return std::nullopt;
    }
    // "MOVED 3999 127.0.0.1:6381" or "ASK 3999 [::1]:6381"
    const std::string_view text(reply.text);
    RedisRedirect redirect;
    std::string_view rest;
    if (text.rfind("MOVED ", 0) == 0) {
        rest = text.substr(6);
    } else if (text.rfind("ASK ", 0) == 0) {
        redirect.ask = true;
        rest = text.substr(4);
    } else {
        return std::nullopt;
    }
    const auto space = rest.find(' ');
    const auto slot_text = rest.substr(0, space);
    if (space == std::string_view::npos || slot_text.empty() || slot_text.size() > 5 ||
        slot_text.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    const auto address = rest.substr(space + 1);
    if (address.find_first_of("/@,?#") != std::string_view::npos) {
        return std::nullopt; // one host:port, nothing else
    }
    redirect.slot = std::stoi(std::string(slot_text));
    // The address goes through the endpoint parser: the rules of a configured one.
    const auto parsed = parse_redis_endpoint("redis://" + std::string(address));
    if (redirect.slot >= cluster_slots || !parsed.ok()) {
        return std::nullopt;
    }
    redirect.to = parsed.value().hosts.front();
    return redirect;
}

RedisClusterClient::RedisClusterClient(std::vector<RedisHost> seeds, RedisConnectionSettings settings)
    : seeds_(std::move(seeds)), settings_(std::move(settings))
{
    settings_.database = 0; // a cluster has no other
}

Fallible<RedisConnection*> RedisClusterClient::connection_to(const RedisHost& host, Deadline deadline)
{
    auto& slot = connections_[display(host)];
    if (slot && slot->usable()) {
        return slot.get();
    }
    RedisConnectionSettings settings = settings_;
    settings.host = host;
    auto opened = RedisConnection::open(settings, deadline);
    if (!opened.ok()) {
        slot.reset();
        return Failure{opened.error()};
    }
    slot = std::move(opened).value();
    return slot.get();
}

Fallible<RedisReply> RedisClusterClient::send(const RedisHost& host, bool asking,
                                              const std::vector<std::string_view>& arguments, Deadline deadline)
{
    auto connection = connection_to(host, deadline);
    if (!connection.ok()) {
        return Failure{connection.error()};
    }
    if (asking) {
        auto ready = connection.value()->command({"ASKING"}, deadline);
        if (!ready.ok()) {
            return ready;
        }
        if (!ready.value().is_status("OK")) {
            return Failure{"redis " + display(host) + " refused ASKING: " + ready.value().text};
        }
    }
    return connection.value()->command(arguments, deadline);
}

Fallible<RedisReply> RedisClusterClient::command(std::string_view key, const std::vector<std::string_view>& arguments,
                                                 Deadline deadline)
{
    if (seeds_.empty()) {
        return Failure{"a Redis Cluster endpoint without nodes"};
    }
    const int slot = key_slot(key);
    const auto known = owners_.find(slot);
    // The node that served the slot last; else the first seed that answers.
    RedisHost target = known != owners_.end() ? known->second : seeds_.front();
    if (known == owners_.end()) {
        for (const auto& seed : seeds_) {
            target = seed;
            if (connection_to(seed, deadline).ok()) {
                break;
            }
        }
    }
    bool asking = false;
    for (int hop = 0; hop <= max_redirects; ++hop) {
        auto reply = send(target, asking, arguments, deadline);
        if (!reply.ok()) {
            owners_.erase(slot); // ask a seed next time
            return reply;
        }
        const auto redirect = parse_redirect(reply.value());
        if (!redirect) {
            return reply;
        }
        ++redirects_;
        if (!redirect->ask) {
            owners_[redirect->slot] = redirect->to;
        }
        target = redirect->to;
        asking = redirect->ask;
    }
    return Failure{"Redis Cluster: more than " + std::to_string(max_redirects) + " redirects for slot " +
                   std::to_string(slot)};
}

} // namespace pam_oauth2::shared_cache
