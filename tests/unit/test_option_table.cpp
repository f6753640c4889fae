#include "option_table.hpp"
#include "settings_parser.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>

using namespace pam_oauth2;

TEST_CASE("every option is declared once, with a group and a summary")
{
    std::set<std::string_view> names;
    const std::set<std::string_view> groups{"verification", "authorization rules", "transport",
                                            "token, conversation, cache, logging", "ending sessions (pam_oauth2d)"};
    for (const auto& spec : option_table()) {
        INFO(spec.name);
        CHECK(names.insert(spec.name).second);
        CHECK(groups.count(spec.group) == 1);
        CHECK_FALSE(spec.summary.empty());
        CHECK(find_option(spec.name) == &spec);
    }
    CHECK(names.size() >= 32);
    CHECK(find_option("group") == nullptr);
    CHECK(find_option("") == nullptr);
}

TEST_CASE("each option's shown value reads back as the same setting")
{
    // Every default, written as an argument and parsed again, shows the same: the dump and the listing
    // say what the parser would do with it.
    const Settings defaults;
    for (const auto& spec : option_table()) {
        const std::string shown = spec.show(defaults);
        if (spec.secret || shown.empty()) {
            continue;
        }
        INFO(spec.name << "=" << shown);
        Settings parsed;
        REQUIRE_FALSE(spec.set(parsed, shown));
        CHECK(spec.show(parsed) == shown);
    }
}

TEST_CASE("the debug dump shows every key once, secrets redacted")
{
    Settings settings;
    settings.endpoints.client_secret = SecureString("Zq9Secret");
    settings.conversation.prompt = "Token please: ";
    const std::string dump = describe_settings(settings);
    for (const auto& spec : option_table()) {
        const std::string key = std::string(spec.name) + "=";
        INFO(key);
        const auto at = dump.find(key);
        REQUIRE(at != std::string::npos);
        CHECK((at == 0 || dump[at - 1] == ' '));
    }
    CHECK(dump.find("Zq9Secret") == std::string::npos);
    CHECK(dump.find("client_secret=<redacted>") != std::string::npos);
    CHECK(dump.find("prompt=\"Token please: \"") != std::string::npos);
    CHECK(dump.find("timeout=5 connect_timeout=2") != std::string::npos);
    CHECK(dump.find("timeout_ms") == std::string::npos);
}

TEST_CASE("the listing has every option with its default")
{
    const auto listing = nlohmann::json::parse(list_options_json());
    REQUIRE(listing.is_array());
    std::size_t count = 0;
    for (const auto& spec : option_table()) {
        ++count;
        INFO(spec.name);
        const auto found = std::find_if(listing.begin(), listing.end(),
                                        [&](const nlohmann::json& entry) { return entry["name"] == spec.name; });
        REQUIRE(found != listing.end());
        CHECK((*found)["default"] == spec.show(Settings{}));
        CHECK((*found)["secret"] == spec.secret);
    }
    CHECK(listing.size() == count);
    const auto timeout = std::find_if(listing.begin(), listing.end(),
                                      [](const nlohmann::json& entry) { return entry["name"] == "timeout"; });
    CHECK((*timeout)["default"] == "5");
}

TEST_CASE("seconds show as written, milliseconds kept inside")
{
    Settings settings;
    const OptionSpec* timeout = find_option("timeout");
    REQUIRE(timeout != nullptr);
    for (const auto& [written, milliseconds] :
         {std::pair<const char*, long>{"1.5", 1500}, {"0.25", 250}, {"0.001", 1}, {"60", 60000}}) {
        REQUIRE_FALSE(timeout->set(settings, std::string_view(written)));
        CHECK(settings.http.timeout_ms == milliseconds);
        CHECK(timeout->show(settings) == written);
    }
}
