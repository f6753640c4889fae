#include "user_directories.hpp"

#include <unistd.h>

#include <cstdlib>
#include <pwd.h>

namespace pam_oauth2::token {

std::string xdg_base_directory(const char* variable, const char* fallback)
{
    if (const char* set = std::getenv(variable); set != nullptr && set[0] == '/') {
        return set;
    }
    const char* home = std::getenv("HOME");
    if (home == nullptr || home[0] != '/') {
        const passwd* entry = getpwuid(geteuid());
        home = entry != nullptr ? entry->pw_dir : nullptr;
    }
    return home != nullptr ? std::string(home) + "/" + fallback : "";
}

} // namespace pam_oauth2::token
