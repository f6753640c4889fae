#include "config_file.hpp"

#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pam_oauth2 {
namespace {

ConfigError file_error(const char* kind, const std::string& path, const std::string& problem)
{
    return ConfigError{std::string(kind) + " " + path + ": " + problem, true};
}

} // namespace

std::variant<ConfigFileText, ConfigError> read_config_file(const std::string& path, uid_t required_owner,
                                                           const char* what)
{
    if (path.empty() || path[0] != '/') {
        return file_error(what, path, "path must be absolute");
    }
    // O_NOFOLLOW: a symlink planted in place of the file must not redirect us to another file.
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        return file_error(what, path, std::string("cannot open: ") + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return file_error(what, path, std::string("cannot stat: ") + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return file_error(what, path, "not a regular file");
    }
    if (st.st_uid != required_owner) {
        return file_error(what, path, "must be owned by uid " + std::to_string(required_owner));
    }
    // Whoever can write this file decides who logs in.
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return file_error(what, path, "must not be group- or world-writable");
    }
    if (static_cast<std::size_t>(st.st_size) > max_config_file_bytes) {
        return file_error(what, path, "larger than " + std::to_string(max_config_file_bytes) + " bytes");
    }

    ConfigFileText result;
    result.path = path;
    result.world_readable = (st.st_mode & S_IROTH) != 0;
    char buffer[4096];
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return file_error(what, path, std::string("cannot read: ") + std::strerror(errno));
        }
        if (got == 0) {
            break;
        }
        result.text.append(buffer, static_cast<std::size_t>(got));
        if (result.text.size() > max_config_file_bytes) {
            return file_error(what, path, "larger than " + std::to_string(max_config_file_bytes) + " bytes");
        }
    }
    return result;
}

} // namespace pam_oauth2
