#pragma once

#include <string>

namespace pam_oauth2::token {

/// The XDG base directory named by `variable` when it holds an absolute path, else `fallback`
/// (".cache", ".config") under the home directory ($HOME when absolute, else the password database);
/// empty when there is no home directory.
std::string xdg_base_directory(const char* variable, const char* fallback);

} // namespace pam_oauth2::token
