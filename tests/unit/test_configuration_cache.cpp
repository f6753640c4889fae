#include "configuration_cache.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;
using namespace std::chrono_literals;

namespace {

// A file as load_configuration lists it: its identity when it was read.
SourceFile source_of(const std::string& path)
{
    SourceFile source{path, {}};
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) {
        source.identity = {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    }
    return source;
}

// A loader that counts its calls: a configuration naming `map` as its username_map, or an error for
// arguments that contain "bad".
struct CountingLoader {
    std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
    std::string map;
    ConfigurationCache::Loader loader() const
    {
        return [calls = calls,
                map = map](const std::vector<std::string_view>& args) -> std::variant<Configuration, ConfigError> {
            ++*calls;
            for (const auto& arg : args) {
                if (arg.find("bad") != std::string_view::npos) {
                    return ConfigError{"bad argument", false};
                }
            }
            Configuration configuration;
            for (const auto& arg : args) {
                if (arg.rfind("conf=", 0) == 0) {
                    configuration.files.push_back(source_of(std::string(arg.substr(5))));
                }
            }
            if (!map.empty()) {
                configuration.settings.users.username_map = map;
                configuration.files.push_back(source_of(map));
            }
            return configuration;
        };
    }
};

const ConfigurationCache::Check no_check = [](const Configuration&) { return std::optional<std::string>(); };

void write(const std::string& path, const std::string& text)
{
    std::ofstream(path) << text;
}

} // namespace

TEST_CASE("configuration cache: one load per argument vector, bounded, cleared by a reload")
{
    const CountingLoader counting;
    ConfigurationCache cache(3, counting.loader(), 1000ms, 0ms);
    const std::vector<std::string> args{"verify=jwt", "audience=postgres"};
    const auto first = cache.get(args, no_check);
    const auto second = cache.get(args, no_check);
    CHECK(*counting.calls == 1);
    CHECK(std::get<std::shared_ptr<const Configuration>>(first.loaded) ==
          std::get<std::shared_ptr<const Configuration>>(second.loaded));
    CHECK(first.identity == second.identity);
    // Argument boundaries are part of the key: one argument with a newline is not two arguments.
    const auto joined = cache.get({"verify=jwt\naudience=postgres"}, no_check);
    CHECK(*counting.calls == 2);
    CHECK(joined.identity != first.identity);
    for (int i = 0; i < 10; ++i) {
        cache.get({"n=" + std::to_string(i)}, no_check);
    }
    CHECK(cache.size() == 3); // hostile argument vectors cannot grow it
    cache.clear();
    CHECK(cache.size() == 0);
    cache.get(args, no_check);
    CHECK(*counting.calls == 13);
    // Argument vectors beyond the key limit are loaded every time and never kept.
    const std::vector<std::string> huge{std::string(ConfigurationCache::max_key_bytes + 1, 'x')};
    cache.get(huge, no_check);
    cache.get(huge, no_check);
    CHECK(*counting.calls == 15);
}

TEST_CASE("configuration cache: the policy check is cached with the configuration, errors briefly")
{
    const CountingLoader counting;
    ConfigurationCache cache(8, counting.loader(), 200ms, 0ms);
    int checks = 0;
    const ConfigurationCache::Check refuse = [&](const Configuration&) {
        ++checks;
        return std::optional<std::string>("host not allowed");
    };
    const auto refused = cache.get({"userinfo_url=https://elsewhere/"}, refuse);
    REQUIRE(std::holds_alternative<ConfigError>(refused.loaded));
    CHECK(std::get<ConfigError>(refused.loaded).message == "host not allowed");
    cache.get({"bad=1"}, no_check);
    cache.get({"bad=1"}, no_check);
    CHECK(*counting.calls == 2); // the error was kept
    std::this_thread::sleep_for(300ms);
    cache.get({"bad=1"}, no_check);
    CHECK(*counting.calls == 3); // ... for its lifetime only
    CHECK(checks == 1);
}

TEST_CASE("configuration cache: a changed conf= or username_map file is seen at the next use")
{
    const TempDir dir;
    const std::string conf = dir.path + "/service.conf";
    const std::string map = dir.path + "/users.map";
    write(conf, "verify = jwt\n");
    write(map, "alice alice\n");
    CountingLoader counting;
    counting.map = map;
    ConfigurationCache cache(8, counting.loader(), 1000ms, 0ms);
    const std::vector<std::string> args{"conf=" + conf};
    const auto first = cache.get(args, no_check);
    cache.get(args, no_check);
    CHECK(*counting.calls == 1);
    write(conf, "verify = userinfo\n");
    const auto after_conf = cache.get(args, no_check);
    CHECK(*counting.calls == 2);
    CHECK(after_conf.identity != first.identity);
    write(map, "alice bob\n");
    cache.get(args, no_check);
    CHECK(*counting.calls == 3);
    cache.get(args, no_check);
    CHECK(*counting.calls == 3);
    // A file replaced by another (rename over it) has another inode, even with the same size and text.
    write(conf + ".new", "verify = userinfo\n");
    REQUIRE(std::rename((conf + ".new").c_str(), conf.c_str()) == 0);
    cache.get(args, no_check);
    CHECK(*counting.calls == 4);
    // A file that went away is a change too.
    REQUIRE(std::remove(map.c_str()) == 0);
    cache.get(args, no_check);
    CHECK(*counting.calls == 5);
}

TEST_CASE("configuration cache: a file changed just before it was read is not trusted to be kept")
{
    const TempDir dir;
    const std::string conf = dir.path + "/service.conf";
    write(conf, "verify = jwt\n");
    const CountingLoader counting;
    ConfigurationCache cache(8, counting.loader()); // the 2 s racy window
    cache.get({"conf=" + conf}, no_check);
    cache.get({"conf=" + conf}, no_check);
    CHECK(*counting.calls == 2);
    CHECK(cache.size() == 0);
    cache.get({"verify=jwt"}, no_check); // no file: kept at once
    CHECK(cache.size() == 1);
}

TEST_CASE("configuration cache: a file that changed while it was read is not kept")
{
    const TempDir dir;
    const std::string conf = dir.path + "/service.conf";
    write(conf, "verify = jwt\n");
    int calls = 0;
    ConfigurationCache cache(
        8,
        [&](const std::vector<std::string_view>&) -> std::variant<Configuration, ConfigError> {
            ++calls;
            Configuration configuration;
            configuration.files.push_back(source_of(conf));
            write(conf, "verify = userinfo\n"); // rewritten after it was read
            return configuration;
        },
        1000ms, 0ms);
    cache.get({"conf=" + conf}, no_check);
    cache.get({"conf=" + conf}, no_check);
    CHECK(calls == 2);
    CHECK(cache.size() == 0);
}

TEST_CASE("configuration cache: many threads, one key")
{
    const CountingLoader counting;
    ConfigurationCache cache(4, counting.loader(), 1000ms, 0ms);
    std::vector<std::thread> threads;
    std::atomic<int> loaded{0};
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            for (int j = 0; j < 200; ++j) {
                const auto result = cache.get({"k=" + std::to_string((i + j) % 6)}, no_check);
                loaded += std::holds_alternative<std::shared_ptr<const Configuration>>(result.loaded) ? 1 : 0;
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(loaded == 1600);
    CHECK(cache.size() <= 4);
}
