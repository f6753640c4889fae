// A command-line front of the shared cache's Redis connection for tests/redis/test_redis.py:
//   redis_probe --url URL [--ca F] [--cert F --key F] [--password-file F] [--budget-ms N] 'CMD ARG...'...
// Opens one connection (TLS, AUTH, SELECT as the URL and options say), sends each command (words
// split on spaces) and prints one line per reply:
//   status OK | string TEXT | integer N | nil | error TEXT | array N
// A failure prints "failure: REASON" and exits 2; a bad command line exits 64. The time taken
// (connect and all commands) goes to stderr as "elapsed_ms N". A redis+sentinel:// URL is resolved
// through its Sentinels first; with redis+cluster:// each command's second word is its key, and
// the redirects followed go to stderr as "redirects N". --pool-rounds N runs the commands N times
// through a RedisPool (see run_pool).
#include "redis_cluster.hpp"
#include "redis_connection.hpp"
#include "redis_endpoint.hpp"
#include "redis_pool.hpp"
#include "redis_sentinel.hpp"
#include "secure_string.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace sc = pam_oauth2::shared_cache;

namespace {

struct Options {
    std::string url;
    sc::RedisTlsSettings tls;
    std::string password_file;
    long budget_ms = 150;
    int pool_rounds = 0;
    long breaker_open_ms = 5000;
    long round_pause_ms = 0;
    int pool_threads = 1;
    std::size_t pool_max_open = 8;
    std::vector<std::string> commands;
};

bool parse_options(int argc, char** argv, Options& options)
{
    const std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const bool has_value = i + 1 < args.size();
        if (args[i] == "--url" && has_value) {
            options.url = args[++i];
        } else if (args[i] == "--ca" && has_value) {
            options.tls.ca_file = args[++i];
        } else if (args[i] == "--cert" && has_value) {
            options.tls.cert_file = args[++i];
        } else if (args[i] == "--key" && has_value) {
            options.tls.key_file = args[++i];
        } else if (args[i] == "--password-file" && has_value) {
            options.password_file = args[++i];
        } else if (args[i] == "--pool-rounds" && has_value) {
            options.pool_rounds = std::stoi(args[++i]);
        } else if (args[i] == "--breaker-open-ms" && has_value) {
            options.breaker_open_ms = std::stol(args[++i]);
        } else if (args[i] == "--pool-threads" && has_value) {
            options.pool_threads = std::stoi(args[++i]);
        } else if (args[i] == "--pool-max-open" && has_value) {
            options.pool_max_open = static_cast<std::size_t>(std::stoul(args[++i]));
        } else if (args[i] == "--round-pause-ms" && has_value) {
            options.round_pause_ms = std::stol(args[++i]);
        } else if (args[i] == "--budget-ms" && has_value) {
            options.budget_ms = std::stol(args[++i]);
        } else if (args[i].rfind("--", 0) == 0) {
            return false;
        } else {
            options.commands.push_back(args[i]);
        }
    }
    return !options.url.empty();
}

std::string describe(const sc::RedisReply& reply)
{
    switch (reply.type) {
    case sc::RedisReply::Type::Status: return "status " + reply.text;
    case sc::RedisReply::Type::String: return "string " + reply.text;
    case sc::RedisReply::Type::Integer: return "integer " + std::to_string(reply.integer);
    case sc::RedisReply::Type::Nil: return "nil";
    case sc::RedisReply::Type::Error: return "error " + reply.text;
    case sc::RedisReply::Type::Array: return "array " + std::to_string(reply.elements.size());
    }
    return "unknown";
}

// The password file's first line (a trailing newline is not part of the password).
pam_oauth2::SecureString read_password(const std::string& path)
{
    std::ifstream file(path);
    std::string line;
    std::getline(file, line);
    pam_oauth2::SecureString password(line);
    pam_oauth2::WipeOnExit wipe(line);
    return password;
}

// A Sentinel endpoint through its Sentinels (asked without a password), any other straight to its
// first address.
pam_oauth2::Fallible<std::unique_ptr<sc::RedisConnection>>
open(const sc::RedisEndpoint& endpoint, const sc::RedisConnectionSettings& settings, sc::Deadline deadline)
{
    if (endpoint.topology != sc::RedisTopology::Sentinel) {
        return sc::RedisConnection::open(settings, deadline);
    }
    sc::SentinelSettings sentinel{settings, settings};
    sentinel.sentinel.user.clear();
    sentinel.sentinel.password = nullptr;
    return sc::open_primary(endpoint, sentinel, deadline);
}

// Each command (words split on spaces) through `send`, one line per reply; 2 at the first failure.
int run_commands(const std::vector<std::string>& commands,
                 const std::function<pam_oauth2::Fallible<sc::RedisReply>(const std::vector<std::string_view>&)>& send)
{
    for (const auto& command : commands) {
        std::istringstream words(command);
        const std::vector<std::string> parts{std::istream_iterator<std::string>(words), {}};
        auto reply = send(std::vector<std::string_view>(parts.begin(), parts.end()));
        if (!reply.ok()) {
            std::cout << "failure: " << reply.error() << "\n";
            return 2;
        }
        std::cout << describe(reply.value()) << "\n";
    }
    return 0;
}

// --pool-rounds N: the commands N times through one RedisPool, each round with its own budget
// (and --round-pause-ms between rounds, the breaker open for --breaker-open-ms), in each of
// --pool-threads threads sharing the pool (--pool-max-open connections at most);
// prints each breaker change ("breaker open"), then "failed_rounds F", "opened K" and the state.
// The rounds of one thread; returns how many failed.
int pool_rounds(const Options& options, sc::RedisPool& pool)
{
    int failed = 0;
    for (int round = 0; round < options.pool_rounds; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(round == 0 ? 0 : options.round_pause_ms));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.budget_ms);
        for (const auto& command : options.commands) {
            std::istringstream words(command);
            const std::vector<std::string> parts{std::istream_iterator<std::string>(words), {}};
            const auto reply = pool.command(std::vector<std::string_view>(parts.begin(), parts.end()), deadline);
            if (!reply.ok()) {
                ++failed;
                break;
            }
        }
    }
    return failed;
}

int run_pool(const Options& options, const sc::RedisEndpoint& endpoint, const sc::RedisConnectionSettings& settings)
{
    sc::RedisPool::Settings pool_settings;
    pool_settings.breaker.open_for = std::chrono::milliseconds(options.breaker_open_ms);
    pool_settings.max_open = options.pool_max_open;
    std::mutex output;
    sc::RedisPool pool([&](sc::Deadline deadline) { return open(endpoint, settings, deadline); }, pool_settings,
                       [&](sc::CircuitBreaker::State state) {
                           const std::lock_guard<std::mutex> lock(output);
                           std::cout << "breaker " << name(state) << "\n";
                       });
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(options.pool_threads));
    for (int i = 0; i < options.pool_threads; ++i) {
        threads.emplace_back([&] { failed += pool_rounds(options, pool); });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    std::cout << "failed_rounds " << failed << "\nopened " << pool.opened() << "\nstate " << name(pool.breaker_state())
              << "\n";
    return 0;
}

int run(const Options& options)
{
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::milliseconds(options.budget_ms);
    const auto report = [&](int code) {
        const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
        std::cerr << "elapsed_ms " << elapsed.count() << "\n";
        return code;
    };
    auto endpoint = sc::parse_redis_endpoint(options.url);
    if (!endpoint.ok()) {
        std::cout << "failure: " << endpoint.error() << "\n";
        return report(2);
    }
    const pam_oauth2::SecureString password =
        options.password_file.empty() ? pam_oauth2::SecureString() : read_password(options.password_file);
    sc::RedisConnectionSettings settings;
    settings.host = endpoint.value().hosts.front();
    if (endpoint.value().tls) {
        auto context = sc::TlsClientContext::create(options.tls);
        if (!context.ok()) {
            std::cout << "failure: " << context.error() << "\n";
            return report(2);
        }
        settings.tls = context.value();
    }
    settings.user = endpoint.value().user;
    settings.password = options.password_file.empty() ? nullptr : &password;
    settings.database = endpoint.value().database;
    if (options.pool_rounds > 0) {
        return report(run_pool(options, endpoint.value(), settings));
    }
    if (endpoint.value().topology == sc::RedisTopology::Cluster) {
        sc::RedisClusterClient cluster(endpoint.value().hosts, settings);
        const int code = run_commands(options.commands, [&](const std::vector<std::string_view>& arguments) {
            return cluster.command(arguments.size() > 1 ? arguments[1] : std::string_view{}, arguments, deadline);
        });
        std::cerr << "redirects " << cluster.redirects_followed() << "\n";
        return report(code);
    }
    auto connection = open(endpoint.value(), settings, deadline);
    if (!connection.ok()) {
        std::cout << "failure: " << connection.error() << "\n";
        return report(2);
    }
    return report(run_commands(options.commands, [&](const std::vector<std::string_view>& arguments) {
        return connection.value()->command(arguments, deadline);
    }));
}

} // namespace

int main(int argc, char** argv)
{
    // A TLS write to a server that hung up must be an error, not the end of the process.
    static_cast<void>(std::signal(SIGPIPE, SIG_IGN));
    Options options;
    try {
        if (!parse_options(argc, argv, options)) {
            std::cerr
                << "usage: redis_probe --url URL [--ca F] [--cert F --key F] [--password-file F] "
                   "[--budget-ms N] [--pool-rounds N [--pool-threads N] [--pool-max-open N] [--breaker-open-ms N] "
                   "[--round-pause-ms N]] "
                   "'COMMAND ARG...'...\n";
            return 64;
        }
        return run(options);
    } catch (const std::exception& error) {
        std::cerr << "redis_probe: " << error.what() << "\n";
        return 70;
    }
}
