#pragma once

#include "fallible.hpp"
#include "redis_connection.hpp"
#include "redis_endpoint.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pam_oauth2::shared_cache {

/// A Redis Cluster has 16384 hash slots; a key's slot is CRC16 (XMODEM) of the key, or of the part
/// inside its first non-empty {hash tag}, modulo 16384.
constexpr int cluster_slots = 16384;
int key_slot(std::string_view key);

/// A -MOVED (the slot has a new owner: remember it) or -ASK (this one command goes there, after
/// ASKING: the slot is being migrated) error reply.
struct RedisRedirect {
    bool ask = false;
    int slot = 0;
    RedisHost to;
};
/// The redirect an error reply carries, or nullopt for any other reply (or a malformed redirect).
std::optional<RedisRedirect> parse_redirect(const RedisReply& reply);

/// Single-key commands against a Redis Cluster, with no slot map to keep up to date: a command goes
/// to the node that last served its slot (first a seed), MOVED is remembered for the slot, ASK is
/// followed once with ASKING, and at most `max_redirects` are followed for one command. One
/// connection per node, opened on first need, dropped after a failure. Not shared between threads.
/// `settings.password` must outlive the client.
class RedisClusterClient {
public:
    static constexpr int max_redirects = 5;

    RedisClusterClient(std::vector<RedisHost> seeds, RedisConnectionSettings settings);

    /// Sends `arguments` (whose key is `key`) to the node of the key's slot. Error replies other
    /// than redirects are replies; failures are the connections' (or too many redirects).
    Fallible<RedisReply> command(std::string_view key, const std::vector<std::string_view>& arguments,
                                 Deadline deadline);

    /// Redirects followed so far (for tests and metrics).
    [[nodiscard]] std::size_t redirects_followed() const { return redirects_; }

private:
    Fallible<RedisConnection*> connection_to(const RedisHost& host, Deadline deadline);
    Fallible<RedisReply> send(const RedisHost& host, bool asking, const std::vector<std::string_view>& arguments,
                              Deadline deadline);

    std::vector<RedisHost> seeds_;
    RedisConnectionSettings settings_;
    std::map<std::string, std::unique_ptr<RedisConnection>> connections_; ///< by display(host)
    std::unordered_map<int, RedisHost> owners_;                           ///< slot -> node, as MOVED said
    std::size_t redirects_ = 0;
};

} // namespace pam_oauth2::shared_cache
