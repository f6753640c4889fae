#include "configuration.hpp"

#include "config_file.hpp"
#include "settings_parser.hpp"

namespace pam_oauth2 {
namespace {

std::variant<Configuration, ConfigError> read_settings(const std::vector<std::string_view>& args)
{
    const auto conf_path = conf_path_from_args(args);
    if (!conf_path) {
        auto settings = parse_settings(args, nullptr);
        if (auto* error = std::get_if<ConfigError>(&settings)) {
            return *error;
        }
        return Configuration{std::move(std::get<Settings>(settings)), std::nullopt, {}};
    }
    auto file = read_config_file(*conf_path);
    if (auto* error = std::get_if<ConfigError>(&file)) {
        return *error;
    }
    const auto& text = std::get<ConfigFileText>(file);
    auto settings = parse_settings(args, &text);
    if (auto* error = std::get_if<ConfigError>(&settings)) {
        return *error;
    }
    auto sections = parse_issuer_sections(args, text);
    if (auto* error = std::get_if<ConfigError>(&sections)) {
        return *error;
    }
    Configuration configuration{std::move(std::get<Settings>(settings)), std::nullopt, {}};
    for (auto& section : std::get<std::vector<IssuerSettings>>(sections)) {
        configuration.issuers.push_back({std::move(section.name), std::move(section.settings), std::nullopt});
    }
    return configuration;
}

std::variant<std::optional<UsernameMap>, ConfigError> read_username_map(const UserRules& users)
{
    if (users.username_map.empty()) {
        return std::optional<UsernameMap>{};
    }
    auto file = read_config_file(users.username_map, 0, "username_map file");
    if (auto* error = std::get_if<ConfigError>(&file)) {
        return *error;
    }
    auto parsed = UsernameMap::parse(std::get<ConfigFileText>(file).text, users.case_insensitive);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
        return ConfigError{users.username_map + ": " + *problem, true};
    }
    return std::optional<UsernameMap>(std::move(std::get<UsernameMap>(parsed)));
}

} // namespace

std::variant<Configuration, ConfigError> load_configuration(const std::vector<std::string_view>& args)
{
    auto read = read_settings(args);
    if (auto* error = std::get_if<ConfigError>(&read)) {
        return *error;
    }
    auto& configuration = std::get<Configuration>(read);
    auto map = read_username_map(configuration.settings.users);
    if (auto* error = std::get_if<ConfigError>(&map)) {
        return *error;
    }
    configuration.username_map = std::move(std::get<std::optional<UsernameMap>>(map));
    for (auto& issuer : configuration.issuers) {
        auto own = read_username_map(issuer.settings.users);
        if (auto* error = std::get_if<ConfigError>(&own)) {
            return *error;
        }
        issuer.username_map = std::move(std::get<std::optional<UsernameMap>>(own));
    }
    return std::move(configuration);
}

} // namespace pam_oauth2
