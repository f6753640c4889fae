#include "config_file.hpp"

#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace pam_oauth2 {
namespace {

ConfigError file_error(const char* kind, const std::string& path, const std::string& problem)
{
    return ConfigError{std::string(kind) + " " + path + ": " + problem, true};
}

// Whoever can write a directory on the way can replace the file: every directory must belong to root
// (or `owner`) and be writable by nobody else, unless it is sticky (like /tmp), where others cannot
// replace what is not theirs.
std::optional<std::string> check_directory(int fd, const std::string& shown, uid_t owner)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return "cannot stat directory " + shown + ": " + std::strerror(errno);
    }
    if (st.st_uid != 0 && st.st_uid != owner) {
        return "directory " + shown + " belongs to uid " + std::to_string(st.st_uid);
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
        return "directory " + shown + " is writable by others";
    }
    return std::nullopt;
}

// Opens an absolute path one component at a time from "/", checking each directory as it is
// entered, so nothing can be swapped between a check and the open. The file itself is opened
// without following a symlink and without blocking (a FIFO planted there must not hang a login).
std::variant<UniqueFd, std::string> open_trusted(const std::string& path, uid_t owner)
{
    UniqueFd directory(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (directory.get() < 0) {
        return std::string("cannot open /: ") + std::strerror(errno);
    }
    if (auto problem = check_directory(directory.get(), "/", owner)) {
        return *problem;
    }
    std::string walked;
    std::size_t start = 1;
    for (;;) {
        const auto slash = path.find('/', start);
        const std::string name = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        start = slash == std::string::npos ? path.size() : slash + 1;
        if (name.empty()) {
            if (slash == std::string::npos) {
                return std::string("path names a directory");
            }
            continue;
        }
        if (name == "." || name == "..") {
            return std::string("path must not contain . or ..");
        }
        walked += "/" + name;
        if (slash == std::string::npos) {
            return UniqueFd(
                ::openat(directory.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
        }
        struct stat link {};
        if (::fstatat(directory.get(), name.c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(link.st_mode) &&
            link.st_uid != 0 && link.st_uid != owner) {
            return "directory " + walked + " is a symlink of uid " + std::to_string(link.st_uid);
        }
        UniqueFd next(::openat(directory.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (next.get() < 0) {
            return "cannot open directory " + walked + ": " + std::strerror(errno);
        }
        if (auto problem = check_directory(next.get(), walked, owner)) {
            return *problem;
        }
        directory = std::move(next);
    }
}

} // namespace

std::variant<ConfigFileText, ConfigError> read_config_file(const std::string& path, uid_t required_owner,
                                                           const char* what)
{
    if (path.empty() || path[0] != '/') {
        return file_error(what, path, "path must be absolute");
    }
    auto opened = open_trusted(path, required_owner);
    if (auto* problem = std::get_if<std::string>(&opened)) {
        return file_error(what, path, *problem);
    }
    const UniqueFd fd = std::move(std::get<UniqueFd>(opened));
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
