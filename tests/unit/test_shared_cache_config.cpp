#include "daemon_config.hpp"
#include "memory_store.hpp"
#include "metrics.hpp"
#include "shared_cache_setup.hpp"
#include "shared_store.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <fstream>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;

namespace {

std::string write(const TempDir& dir, const std::string& name, const std::string& text, mode_t mode = 0600)
{
    std::string path = dir.path + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
}

const std::string secret(48, 'k');

// The error of loading `lines` (after allow_users), "" when it loads.
std::string error_of(const TempDir& dir, const std::string& lines)
{
    auto result = load_daemon_config(write(dir, "pam_oauth2d.conf", "allow_users = root\n" + lines, 0644));
    return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : std::string();
}

bool has(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("shared_cache keys: off by default, the key file required, secrets read safely and never shown")
{
    const TempDir dir;
    const std::string key = write(dir, "fleet.key", secret + "\n");
    CHECK(default_daemon_config().shared_cache.empty());
    CHECK(default_daemon_config().shared_cache_budget_ms == 150);
    CHECK(default_daemon_config().shared_cache_prefix == "pam_oauth2:");

    auto loaded = load_daemon_config(write(dir, "pam_oauth2d.conf",
                                           "allow_users = root\nshared_cache = redis://127.0.0.1:6379/2\n"
                                           "shared_cache_key_file = " +
                                               key + "\n",
                                           0644));
    REQUIRE(std::holds_alternative<DaemonConfig>(loaded));
    const auto& config = std::get<DaemonConfig>(loaded);
    REQUIRE(config.shared_cache_setup != nullptr);
    CHECK(config.shared_cache_setup->endpoint.database == 2);
    CHECK(config.shared_cache_setup->budget == std::chrono::milliseconds(150));
    CHECK_FALSE(has(describe_daemon_config(config), secret.substr(0, 16)));

    const std::string url = "shared_cache = redis://127.0.0.1/0\n";
    CHECK(has(error_of(dir, url), "shared_cache_key_file is not"));
    CHECK(has(error_of(dir, "shared_cache = http://x/\n"), "not a Redis endpoint"));
    CHECK(has(error_of(dir, "shared_cache = redis://:hunter2@h/0\n"), "password in the URL"));
    CHECK_FALSE(has(error_of(dir, "shared_cache = redis://:hunter2@h/0\n"), "hunter2"));
    CHECK(error_of(dir, "shared_cache = redis+cluster://h1,h2\nshared_cache_key_file = " + key + "\n").empty());
    CHECK(has(error_of(dir, "shared_cache = redis+cluster://h/3\nshared_cache_key_file = " + key + "\n"),
              "not a Redis endpoint"));
    CHECK(has(error_of(dir, url + "shared_cache_key_file = relative\n"), "absolute"));
    CHECK(has(error_of(dir, url + "shared_cache_key_file = " + dir.path + "/absent\n"), "absent"));
    const std::string short_key = write(dir, "short.key", std::string(31, 's') + "\n");
    CHECK(has(error_of(dir, url + "shared_cache_key_file = " + short_key + "\n"), "at least 32 bytes"));
    const std::string readable = write(dir, "readable.key", secret, 0640);
    CHECK(has(error_of(dir, url + "shared_cache_key_file = " + readable + "\n"), "readable by group or others"));
    const std::string writable = write(dir, "writable.key", secret, 0620);
    CHECK(has(error_of(dir, url + "shared_cache_key_file = " + writable + "\n"), "writable"));
    const std::string with_key = url + "shared_cache_key_file = " + key + "\n";
    CHECK(has(error_of(dir, with_key + "shared_cache_previous_key_file = " + short_key + "\n"),
              "shared_cache_previous_key_file must hold at least 32"));
    CHECK(error_of(dir, with_key + "shared_cache_previous_key_file = " + key + "\n").empty());
    const std::string empty = write(dir, "empty.password", "\n");
    CHECK(has(error_of(dir, with_key + "shared_cache_password_file = " + empty + "\n"), "is empty"));
    CHECK(has(error_of(dir, with_key + "shared_cache_ca_file = /etc/ssl/certs/ca-certificates.crt\n"),
              "need a rediss://"));
    CHECK(has(error_of(dir, "shared_cache = rediss://h/0\nshared_cache_key_file = " + key +
                                "\nshared_cache_tls_cert = /x.pem\n"),
              "go together"));
    CHECK(has(error_of(dir, with_key + "shared_cache_budget_ms = 9\n"), "from 10 to 5000"));
    CHECK(has(error_of(dir, with_key + "shared_cache_prefix = a*b\n"), "printable"));
    CHECK(has(error_of(dir, with_key + "shared_cache_prefix = \n"), "printable"));
    // A secret's content never reaches an error.
    const std::string bad_password = write(dir, "open.password", "s3cr3t-pw\n", 0644);
    const std::string refused = error_of(dir, with_key + "shared_cache_password_file = " + bad_password + "\n");
    CHECK(has(refused, "readable by group or others"));
    CHECK_FALSE(has(refused, "s3cr3t"));
}

TEST_CASE("the shared store: memory alone without a shared cache; an unreachable Redis is a counted miss")
{
    const TempDir dir;
    MemoryStore memory(100);
    Metrics metrics;
    const Logger logger([](int, const std::string&) {});
    SharedStore store(memory, metrics, logger);
    CHECK(store.write("verdict a", "{\"claims\":{}}", 100));
    CHECK(store.read("verdict a", 1024)->text == "{\"claims\":{}}");
    CHECK_FALSE(store.read("verdict b", 1024));
    CHECK(store.where() == "memory");

    const std::string key = write(dir, "fleet.key", secret);
    auto loaded = load_daemon_config(write(dir, "pam_oauth2d.conf",
                                           "allow_users = root\nshared_cache = redis://127.0.0.1:1/0\n"
                                           "shared_cache_key_file = " +
                                               key + "\n",
                                           0644));
    REQUIRE(std::holds_alternative<DaemonConfig>(loaded));
    store.configure(std::get<DaemonConfig>(loaded).shared_cache_setup);
    // From memory: Redis is not asked (no error counted).
    CHECK(store.read("verdict a", 1024));
    CHECK(has(metrics.text(), "pam_oauth2d_shared_cache_errors_total 0"));
    // Not in memory: Redis fails, a miss, counted.
    CHECK_FALSE(store.read("verdict b", 1024));
    CHECK(has(metrics.text(), "pam_oauth2d_shared_cache_errors_total 1"));
    // A write is kept in memory whatever Redis does.
    CHECK(store.write("verdict c", "{\"claims\":{}}", 100));
    CHECK(memory.read("verdict c", 1024));
}
