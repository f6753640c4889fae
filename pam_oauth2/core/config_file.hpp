#pragma once

#include "settings_parser.hpp"

#include <sys/types.h>

#include <string>
#include <variant>

namespace pam_oauth2 {

/// Largest conf= file accepted; a bigger one is a configuration error, not a truncation.
constexpr std::size_t max_config_file_bytes = std::size_t{64} * 1024;

/// Opens a file that decides who logs in (conf=, username_map=) safely: every directory on the way
/// owned by root or `required_owner` and not writable by others (unless sticky), no symlink as the
/// file, no blocking open, a regular file owned by `required_owner`, not group- or world-writable,
/// size-capped. Returns its text, or a
/// ConfigError naming `what` and the rule it broke.
std::variant<ConfigFileText, ConfigError> read_config_file(const std::string& path, uid_t required_owner = 0,
                                                           const char* what = "conf file");

} // namespace pam_oauth2
