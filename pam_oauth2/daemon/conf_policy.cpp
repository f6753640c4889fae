#include "conf_policy.hpp"

#include "settings_parser.hpp"

#include <algorithm>

namespace pam_oauth2 {
namespace {

// Absolute, and no component empty, "." or "..": the text says where the file is.
bool is_plain_absolute(std::string_view path)
{
    if (path.empty() || path.front() != '/') {
        return false;
    }
    std::size_t start = 1;
    while (start <= path.size()) {
        const auto end = std::min(path.find('/', start), path.size());
        const auto component = path.substr(start, end - start);
        if (component.empty() || component == "." || component == "..") {
            return false;
        }
        start = end + 1;
    }
    return true;
}

} // namespace

std::optional<std::string> conf_path_refused(const std::vector<std::string>& conf_dirs, std::string_view path)
{
    if (!is_plain_absolute(path)) {
        return std::string("conf= must be an absolute path without . or .. components");
    }
    for (const auto& directory : conf_dirs) {
        if (path.size() > directory.size() + 1 && path.substr(0, directory.size()) == directory &&
            path[directory.size()] == '/') {
            return std::nullopt;
        }
    }
    // The path is the client's own argument, but it is not repeated: the reason is logged with the
    // peer and service, and the administrator knows the pam.d line.
    return std::string("conf= names a file outside pam_oauth2d's conf_dirs");
}

bool conf_bound_to(const std::vector<ConfBinding>& conf_users, std::string_view path, uid_t uid)
{
    for (const auto& binding : conf_users) {
        const std::string_view bound = binding.path;
        // A directory line ("/dir/") covers every file below it; a file line that file only.
        const bool covers =
            bound.back() == '/' ? path.size() > bound.size() && path.substr(0, bound.size()) == bound : path == bound;
        if (covers && std::find(binding.uids.begin(), binding.uids.end(), uid) != binding.uids.end()) {
            return true;
        }
    }
    return false;
}

std::optional<ConfigError> refused_conf_argument(const DaemonConfig& config, const std::vector<std::string_view>& args,
                                                 uid_t uid)
{
    // A username_map= argument names a file the daemon opens too: the same directories, so a peer
    // cannot make it read (and answer about) any root-owned file.
    if (const auto map = argument_value(args, "username_map")) {
        if (conf_path_refused(config.conf_dirs, *map)) {
            return ConfigError{"username_map= names a file outside pam_oauth2d's conf_dirs (" + config.path + ")",
                               false};
        }
    }
    const auto path = conf_path_from_args(args);
    if (!path) {
        return std::nullopt;
    }
    if (auto problem = conf_path_refused(config.conf_dirs, *path)) {
        return ConfigError{*problem + " (" + config.path + ")", false};
    }
    if (!conf_bound_to(config.conf_users, *path, uid)) {
        // One wording for a file that exists and one that does not: nothing was opened to decide.
        return ConfigError{"conf= names a file that pam_oauth2d's conf_users does not bind to uid " +
                               std::to_string(uid) + " (" + config.path + ")",
                           false};
    }
    return std::nullopt;
}

} // namespace pam_oauth2
