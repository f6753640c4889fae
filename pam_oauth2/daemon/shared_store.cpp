#include "shared_store.hpp"

#include "digest.hpp"
#include "document_lifetime.hpp"
#include "json.hpp"
#include "key_source.hpp"
#include "redis_sentinel.hpp"
#include "shared_cluster.hpp"

#include <syslog.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <thread>
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
// How often a host waiting for another's refresh re-reads the shared entry.
constexpr std::chrono::milliseconds lease_poll{20};
// A shared refusal holds a reason and a few claims, never a provider's whole answer.
constexpr std::size_t max_refusal_bytes = std::size_t{16} * 1024;

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

// The deadline of the login this thread serves (LoginDeadline), else none.
thread_local std::chrono::steady_clock::time_point login_deadline = std::chrono::steady_clock::time_point::max();

bool is_verdict(std::string_view key)
{
    return key.substr(0, 8) == "verdict ";
}

// A document younger than the life its provider gave it (what the core checks before serving it).
bool fresh(const CacheEntry& entry)
{
    const long long age = unix_now() - entry.stored_at;
    return age >= 0 && age < read_stored_document(entry.text).lifetime;
}

// Until when the entry may be used: a verdict never past its exp nor verdict_max_seconds, a document
// as long as a reader may still serve it when its provider fails.
long long use_by(std::string_view key, std::string_view text, long long stored_at)
{
    if (!is_verdict(key)) {
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

SharedStore::LoginDeadline::LoginDeadline(std::chrono::steady_clock::time_point deadline) : previous_(login_deadline)
{
    login_deadline = deadline;
}

SharedStore::LoginDeadline::~LoginDeadline()
{
    login_deadline = previous_;
}

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

SharedStore::Lookup SharedStore::lookup(const Fleet& fleet, const sc::EntryKey& entry, std::size_t max_bytes) const
{
    const SharedCacheSetup& setup = *fleet.setup;
    const sc::Deadline deadline = std::chrono::steady_clock::now() + setup.budget;
    for (const auto& name : setup.keys.entry_names(setup.prefix, entry)) {
        auto reply = fleet.command(name, {"GET", name}, deadline);
        if (!reply.ok() || reply.value().is_error()) {
            metrics_.shared_cache_error();
            return Lookup{std::nullopt, true};
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
        return Lookup{std::move(opened.value()), false};
    }
    return Lookup{};
}

void SharedStore::store(const Fleet& fleet, const sc::EntryKey& entry, const sc::EntryContent& content) const
{
    const SharedCacheSetup& setup = *fleet.setup;
    const long long seconds = content.use_by - unix_now();
    if (seconds <= 0) {
        return;
    }
    const std::string name = setup.keys.entry_name(setup.prefix, entry);
    auto sealed = setup.keys.seal(name, content);
    if (!sealed.ok()) {
        metrics_.shared_cache_error();
        return;
    }
    const std::string ttl = std::to_string(seconds);
    auto reply =
        fleet.command(name, {"SET", name, sealed.value(), "EX", ttl}, std::chrono::steady_clock::now() + setup.budget);
    if (!reply.ok() || !reply.value().is_status("OK")) {
        metrics_.shared_cache_error();
    }
}

std::optional<CacheEntry> SharedStore::read(std::string_view key, std::size_t max_bytes) const
{
    auto in_memory = memory_.read(key, max_bytes);
    const bool document = !is_verdict(key);
    if (in_memory && (!document || fresh(*in_memory))) {
        return in_memory;
    }
    // A stale document goes to the provider anyway: the fleet may hold a fresher copy, or one host
    // should fetch it for all.
    const auto shared = fleet();
    if (!shared) {
        return in_memory;
    }
    const std::string digest = sha256_hex(key);
    Lookup found = lookup(*shared, entry_key(digest), max_bytes);
    if (!found.content && !found.failed) {
        metrics_.shared_cache_miss();
    } else if (found.content && (!in_memory || found.content->written_at > in_memory->stored_at)) {
        metrics_.shared_cache_hit();
        CacheEntry entry{std::move(found.content->payload), found.content->written_at};
        (void)memory_.write(key, entry.text, entry.stored_at);
        in_memory = std::move(entry);
    }
    if (!document || found.failed || (in_memory && fresh(*in_memory))) {
        return in_memory;
    }
    return refresh_owner(*shared, key, digest, max_bytes, std::move(in_memory));
}

std::optional<CacheEntry> SharedStore::refresh_owner(const Fleet& fleet, std::string_view key,
                                                     const std::string& digest, std::size_t max_bytes,
                                                     std::optional<CacheEntry> best) const
{
    const SharedCacheSetup& setup = *fleet.setup;
    if (setup.lease.count() <= 0) {
        return best;
    }
    const std::string lease = setup.keys.entry_name(setup.prefix, sc::EntryKey{"lease", digest, "v1"});
    const std::string lease_ms = std::to_string(setup.lease.count());
    auto reply = fleet.command(lease, {"SET", lease, "1", "NX", "PX", lease_ms},
                               std::chrono::steady_clock::now() + setup.budget);
    if (!reply.ok() || reply.value().is_error()) {
        metrics_.shared_cache_error();
        return best;
    }
    if (reply.value().is_status("OK")) {
        metrics_.shared_lease("taken");
        return best; // this host fetches; write() shares what it got
    }
    // Another host holds the lease: its copy is awaited, never longer than the lease nor half of what
    // is left of the login's time (the other half is for fetching it here).
    const auto now = std::chrono::steady_clock::now();
    auto until = now + setup.lease;
    if (login_deadline != std::chrono::steady_clock::time_point::max()) {
        until = std::min(until, now + (login_deadline - now) / 2);
    }
    const long long known = best ? best->stored_at : -1;
    while (std::chrono::steady_clock::now() < until) {
        const auto left = until - std::chrono::steady_clock::now();
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(lease_poll, left));
        Lookup found = lookup(fleet, entry_key(digest), max_bytes);
        if (found.failed) {
            break;
        }
        if (found.content && found.content->written_at > known) {
            CacheEntry entry{std::move(found.content->payload), found.content->written_at};
            if (fresh(entry)) {
                metrics_.shared_lease("waited");
                metrics_.shared_cache_hit();
                (void)memory_.write(key, entry.text, entry.stored_at);
                return entry;
            }
        }
    }
    metrics_.shared_lease("fell_back");
    return best;
}

bool SharedStore::write(std::string_view key, std::string_view text, long long stored_at) const
{
    const bool kept = memory_.write(key, text, stored_at);
    if (const auto shared = fleet()) {
        store(*shared, entry_key(sha256_hex(key)),
              sc::EntryContent{stored_at, use_by(key, text, stored_at), std::string(text)});
    }
    return kept;
}

std::optional<sc::EntryContent> SharedStore::read_refusal(std::string_view token_digest,
                                                          std::string_view fingerprint) const
{
    const auto shared = fleet();
    if (!shared) {
        return std::nullopt;
    }
    Lookup found = lookup(*shared, sc::EntryKey{"refusal", token_digest, fingerprint}, max_refusal_bytes);
    metrics_.shared_refusal(found.content ? "hit" : "miss");
    return std::move(found.content);
}

void SharedStore::write_refusal(std::string_view token_digest, std::string_view fingerprint, std::string_view payload,
                                long long until) const
{
    const auto shared = fleet();
    if (!shared || until <= unix_now()) {
        return;
    }
    metrics_.shared_refusal("written");
    store(*shared, sc::EntryKey{"refusal", token_digest, fingerprint},
          sc::EntryContent{unix_now(), until, std::string(payload)});
}

} // namespace pam_oauth2
