#include "shared_store.hpp"

#include "digest.hpp"
#include "json.hpp"
#include "key_source.hpp"
#include "redis_sentinel.hpp"
#include "shared_cluster.hpp"

#include <syslog.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

namespace pam_oauth2 {

namespace sc = shared_cache;

struct SharedStore::Fleet {
    std::shared_ptr<const SharedCacheSetup> setup;
    std::unique_ptr<sc::RedisPool> pool;          // standalone or Sentinel
    std::unique_ptr<SharedClusterClient> cluster; // redis+cluster://

    Fallible<sc::RedisReply> command(std::string_view name, const std::vector<std::string_view>& arguments,
                                     sc::Deadline deadline) const
    {
        return cluster ? cluster->command(name, arguments, deadline) : pool->command(arguments, deadline);
    }
};

namespace {

constexpr long long bad_value_log_interval_seconds = 60;

long long unix_now()
{
    return static_cast<long long>(std::time(nullptr));
}

// The store key is the core's (it names the method, endpoint, client, token digest and trust tag
// of a verdict; the URL and trust tag of a document): the fleet name hashes its digest, so every
// input the entry depends on is in the name and the token is not.
sc::EntryKey entry_key(const std::string& key_digest)
{
    return sc::EntryKey{"store", key_digest, "v1"};
}

// Until when the entry may be used: a verdict never past its exp nor verdict_max_seconds, a document
// as long as a reader may still serve it when its provider fails.
long long use_by(std::string_view key, std::string_view text, long long stored_at)
{
    if (key.substr(0, 8) != "verdict ") {
        return stored_at + jwks_stale_if_error_seconds;
    }
    long long until = stored_at + SharedStore::verdict_max_seconds;
    if (const auto document = parse_json_object(text)) {
        if (const auto exp = integer_member(*document, "exp")) {
            until = std::min(until, *exp);
        }
    }
    return until;
}

sc::RedisConnectionSettings connection_settings(const SharedCacheSetup& setup)
{
    sc::RedisConnectionSettings settings;
    settings.host = setup.endpoint.hosts.front();
    settings.tls = setup.tls;
    settings.user = setup.endpoint.user;
    settings.password = setup.password.empty() ? nullptr : &setup.password;
    settings.database = setup.endpoint.database;
    return settings;
}

Fallible<std::unique_ptr<sc::RedisConnection>> open_connection(const SharedCacheSetup& setup, sc::Deadline deadline)
{
    const sc::RedisConnectionSettings settings = connection_settings(setup);
    if (setup.endpoint.topology != sc::RedisTopology::Sentinel) {
        return sc::RedisConnection::open(settings, deadline);
    }
    // Sentinels are asked without the data password (they seldom share it).
    sc::SentinelSettings sentinel{settings, settings};
    sentinel.sentinel.user.clear();
    sentinel.sentinel.password = nullptr;
    return sc::open_primary(setup.endpoint, sentinel, deadline);
}

} // namespace

SharedStore::SharedStore(MemoryStore& memory, Metrics& metrics, const Logger& logger)
    : memory_(memory), metrics_(metrics), logger_(logger)
{
}

void SharedStore::configure(const std::shared_ptr<const SharedCacheSetup>& setup)
{
    std::shared_ptr<Fleet> next;
    if (setup) {
        next = std::make_shared<Fleet>();
        next->setup = setup;
        const std::string where = sc::display(setup->endpoint.hosts.front());
        auto on_change = [this, where](sc::CircuitBreaker::State state) {
            metrics_.shared_cache_breaker(static_cast<int>(state));
            logger_.log(state == sc::CircuitBreaker::State::Closed ? LOG_NOTICE : LOG_WARNING,
                        std::string("shared cache ") + where + ": breaker " + sc::name(state) +
                            (state == sc::CircuitBreaker::State::Closed ? "" : ", logins go to the provider"));
        };
        if (setup->endpoint.topology == sc::RedisTopology::Cluster) {
            // The Fleet holds the setup: the password the settings point to lives as long.
            next->cluster =
                std::make_unique<SharedClusterClient>(setup->endpoint.hosts, connection_settings(*setup), on_change);
        } else {
            // The opener holds the setup it was made from: the password it points to lives as long.
            next->pool = std::make_unique<sc::RedisPool>(
                [setup](sc::Deadline deadline) { return open_connection(*setup, deadline); }, sc::RedisPool::Settings{},
                on_change);
        }
    }
    metrics_.shared_cache_breaker(0);
    const std::lock_guard<std::mutex> lock(mutex_);
    fleet_ = std::move(next);
}

std::shared_ptr<SharedStore::Fleet> SharedStore::fleet() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return fleet_;
}

std::string SharedStore::where() const
{
    return fleet() ? "memory and shared cache" : "memory";
}

void SharedStore::report_bad_value(const std::string& reason) const
{
    metrics_.shared_cache_error();
    const long long now = unix_now();
    long long last = last_bad_value_log_.load();
    if (now - last >= bad_value_log_interval_seconds && last_bad_value_log_.compare_exchange_strong(last, now)) {
        logger_.log(LOG_WARNING, "shared cache: an entry that does not open is ignored (" + reason +
                                     "); at most one such line a minute");
    }
}

std::optional<CacheEntry> SharedStore::read(std::string_view key, std::size_t max_bytes) const
{
    if (auto hit = memory_.read(key, max_bytes)) {
        return hit;
    }
    const auto shared = fleet();
    if (!shared) {
        return std::nullopt;
    }
    const SharedCacheSetup& setup = *shared->setup;
    const sc::Deadline deadline = std::chrono::steady_clock::now() + setup.budget;
    const std::string digest = sha256_hex(key);
    for (const auto& name : setup.keys.entry_names(setup.prefix, entry_key(digest))) {
        auto reply = shared->command(name, {"GET", name}, deadline);
        if (!reply.ok() || reply.value().is_error()) {
            metrics_.shared_cache_error();
            return std::nullopt;
        }
        if (reply.value().type != sc::RedisReply::Type::String) {
            continue;
        }
        auto opened = setup.keys.open(name, reply.value().text, unix_now());
        if (!opened.ok()) {
            report_bad_value(opened.error());
            continue;
        }
        if (opened.value().payload.size() > max_bytes) {
            continue;
        }
        metrics_.shared_cache_hit();
        CacheEntry entry{std::move(opened.value().payload), opened.value().written_at};
        (void)memory_.write(key, entry.text, entry.stored_at);
        return entry;
    }
    metrics_.shared_cache_miss();
    return std::nullopt;
}

bool SharedStore::write(std::string_view key, std::string_view text, long long stored_at) const
{
    const bool kept = memory_.write(key, text, stored_at);
    const auto shared = fleet();
    if (!shared) {
        return kept;
    }
    const SharedCacheSetup& setup = *shared->setup;
    const long long until = use_by(key, text, stored_at);
    const long long seconds = until - unix_now();
    if (seconds <= 0) {
        return kept;
    }
    const std::string name = setup.keys.entry_name(setup.prefix, entry_key(sha256_hex(key)));
    auto sealed = setup.keys.seal(name, sc::EntryContent{stored_at, until, std::string(text)});
    if (!sealed.ok()) {
        metrics_.shared_cache_error();
        return kept;
    }
    const std::string ttl = std::to_string(seconds);
    auto reply = shared->command(name, {"SET", name, sealed.value(), "EX", ttl},
                                 std::chrono::steady_clock::now() + setup.budget);
    if (!reply.ok() || !reply.value().is_status("OK")) {
        metrics_.shared_cache_error();
    }
    return kept;
}

} // namespace pam_oauth2
