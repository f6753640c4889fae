#include "configuration.hpp"

#include "config_file.hpp"
#include "settings_parser.hpp"

namespace pam_oauth2 {
namespace {

std::variant<Settings, ConfigError> read_settings(const std::vector<std::string_view>& args)
{
    const auto conf_path = conf_path_from_args(args);
    if (!conf_path) {
        return parse_settings(args, nullptr);
    }
    auto file = read_config_file(*conf_path);
    if (auto* error = std::get_if<ConfigError>(&file)) {
        return *error;
    }
    return parse_settings(args, &std::get<ConfigFileText>(file));
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
    auto settings = read_settings(args);
    if (auto* error = std::get_if<ConfigError>(&settings)) {
        return *error;
    }
    Configuration configuration{std::move(std::get<Settings>(settings)), std::nullopt};
    auto map = read_username_map(configuration.settings.users);
    if (auto* error = std::get_if<ConfigError>(&map)) {
        return *error;
    }
    configuration.username_map = std::move(std::get<std::optional<UsernameMap>>(map));
    return configuration;
}

} // namespace pam_oauth2
