#pragma once

#include "config_error.hpp"
#include "daemon_config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pam_oauth2 {

/// Whether the daemon may open `path` as a client's conf= file: nullopt when it names a file below one
/// of `conf_dirs` (pam_oauth2d.conf's conf_dirs, each absolute and without a trailing '/'), else the
/// problem, worded for the client. The path must be absolute and hold no empty, '.' or '..' component,
/// so the comparison by text is the comparison of where the file is; the trusted opener then refuses
/// symbolic links that others could have placed. Without this, a permitted peer could name any file
/// the daemon's user can read (the daemon answers with configuration errors about it).
std::optional<std::string> conf_path_refused(const std::vector<std::string>& conf_dirs, std::string_view path);

/// Whether the peer `uid` may name `path` (already below conf_dirs): a conf_users line for the file,
/// or for a directory above it, lists the uid. A file no line names is refused: the daemon holds
/// every service's client secret, and only pam_oauth2d.conf (root's) says which service's file is
/// whose. By text only, before anything is opened, so the answer is the same whether the file exists
/// or not.
bool conf_bound_to(const std::vector<ConfBinding>& conf_users, std::string_view path, uid_t uid);

/// The checks above for the conf= argument of a client's module arguments (the one parsing would
/// read) sent by the peer `uid`, as the configuration error to answer with: nullopt when there is no
/// conf= or it is allowed. pam_oauth2d calls it before it loads a client's configuration from those
/// arguments. Refusals never repeat the path, and never depend on the file.
std::optional<ConfigError> refused_conf_argument(const DaemonConfig& config, const std::vector<std::string_view>& args,
                                                 uid_t uid);

} // namespace pam_oauth2
