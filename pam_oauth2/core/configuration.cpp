#include "configuration.hpp"

#include "settings_parser.hpp"

#include <algorithm>

namespace pam_oauth2 {
namespace {

std::variant<Configuration, ConfigError> read_settings(const std::vector<std::string_view>& args)
{
    std::optional<ConfigFileText> file;
    if (const auto conf_path = conf_path_from_args(args)) {
        auto read = read_config_file(*conf_path);
        if (auto* error = std::get_if<ConfigError>(&read)) {
            return *error;
        }
        file = std::move(std::get<ConfigFileText>(read));
    }
    auto parsed = parse_all_settings(args, file ? &*file : nullptr);
    if (auto* error = std::get_if<ConfigError>(&parsed)) {
        return *error;
    }
    auto& settings = std::get<ParsedSettings>(parsed);
    Configuration configuration{std::move(settings.settings), std::nullopt, {}, {}};
    for (auto& section : settings.issuers) {
        configuration.issuers.push_back({std::move(section.name), std::move(section.settings), std::nullopt});
    }
    if (file) {
        configuration.files.push_back({file->path, file->identity});
    }
    return configuration;
}

// The map named by `users`, compiled; its file recorded in `files` (once, however many use it).
std::variant<std::optional<UsernameMap>, ConfigError> read_username_map(const UserRules& users,
                                                                        std::vector<SourceFile>& files)
{
    if (users.username_map.empty()) {
        return std::optional<UsernameMap>{};
    }
    auto file = read_config_file(users.username_map, 0, "username_map file");
    if (auto* error = std::get_if<ConfigError>(&file)) {
        return *error;
    }
    const auto& text = std::get<ConfigFileText>(file);
    auto parsed = UsernameMap::parse(text.text, users.case_insensitive);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
        return ConfigError{users.username_map + ": " + *problem, true};
    }
    const bool known = std::any_of(files.begin(), files.end(), [&](const SourceFile& seen) {
        return seen.path == text.path && same_file(seen.identity, text.identity);
    });
    if (!known) {
        files.push_back({text.path, text.identity});
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
    auto map = read_username_map(configuration.settings.users, configuration.files);
    if (auto* error = std::get_if<ConfigError>(&map)) {
        return *error;
    }
    configuration.username_map = std::move(std::get<std::optional<UsernameMap>>(map));
    for (auto& issuer : configuration.issuers) {
        auto own = read_username_map(issuer.settings.users, configuration.files);
        if (auto* error = std::get_if<ConfigError>(&own)) {
            return *error;
        }
        issuer.username_map = std::move(std::get<std::optional<UsernameMap>>(own));
    }
    return std::move(configuration);
}

} // namespace pam_oauth2
