#include "config_file.hpp"

#include "unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace pam_oauth2 {
namespace {

// What went wrong on the way to the file, before the rule's name and the path are put in front.
struct Refusal {
    std::string problem;
    bool absent = false;
};

Refusal failed(const std::string& doing)
{
    const int error = errno;
    return Refusal{doing + ": " + std::strerror(error), error == ENOENT};
}

// Whoever can write a directory on the way can replace the file: every directory must belong to root
// (or `owner`) and be writable by nobody else, unless it is sticky (like /tmp), where others cannot
// replace what is not theirs.
std::optional<Refusal> check_directory(int fd, const std::string& shown, uid_t owner)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return failed("cannot stat directory " + shown);
    }
    if (st.st_uid != 0 && st.st_uid != owner) {
        return Refusal{"directory " + shown + " belongs to uid " + std::to_string(st.st_uid)};
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
        return Refusal{"directory " + shown + " is writable by others"};
    }
    return std::nullopt;
}

// The directory `name` inside `directory`, checked as it is entered. A symlink on the way is
// followed only when root or `owner` made it.
std::variant<UniqueFd, Refusal> enter(const UniqueFd& directory, const std::string& name, const std::string& walked,
                                      uid_t owner)
{
    struct stat link {};
    if (::fstatat(directory.get(), name.c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(link.st_mode) &&
        link.st_uid != 0 && link.st_uid != owner) {
        return Refusal{"directory " + walked + " is a symlink of uid " + std::to_string(link.st_uid)};
    }
    UniqueFd next(::openat(directory.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (next.get() < 0) {
        return failed("cannot open directory " + walked);
    }
    if (auto problem = check_directory(next.get(), walked, owner)) {
        return *problem;
    }
    return next;
}

// Opens an absolute path one component at a time from "/", checking each directory as it is
// entered, so nothing can be swapped between a check and the open. The file itself is opened
// without following a symlink and without blocking (a FIFO planted there must not hang a login).
std::variant<UniqueFd, Refusal> open_trusted(const std::string& path, uid_t owner)
{
    UniqueFd directory(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (directory.get() < 0) {
        return failed("cannot open /");
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
                return Refusal{"path names a directory"};
            }
            continue;
        }
        if (name == "." || name == "..") {
            return Refusal{"path must not contain . or .."};
        }
        walked += "/" + name;
        if (slash == std::string::npos) {
            UniqueFd file(
                ::openat(directory.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
            if (file.get() < 0) {
                return failed("cannot open");
            }
            return file;
        }
        auto next = enter(directory, name, walked, owner);
        if (auto* problem = std::get_if<Refusal>(&next)) {
            return *problem;
        }
        directory = std::move(std::get<UniqueFd>(next));
    }
}

// The rule's checks on what was opened: fstat of the descriptor, never of the path.
std::optional<Refusal> check_file(const struct stat& st, const TrustRule& rule)
{
    if (!S_ISREG(st.st_mode)) {
        return Refusal{"not a regular file"};
    }
    if (st.st_uid != rule.owner && !(rule.root_may_own && st.st_uid == 0)) {
        return Refusal{"must be owned by uid " + std::to_string(rule.owner) + (rule.root_may_own ? " or root" : "")};
    }
    // Whoever can write this file decides who logs in.
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return Refusal{"must not be group- or world-writable"};
    }
    if (static_cast<std::size_t>(st.st_size) > max_config_file_bytes) {
        return Refusal{"larger than " + std::to_string(max_config_file_bytes) + " bytes"};
    }
    return std::nullopt;
}

std::optional<Refusal> read_all(int fd, std::string& text)
{
    char buffer[4096];
    for (;;) {
        const ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return failed("cannot read");
        }
        if (got == 0) {
            return std::nullopt;
        }
        text.append(buffer, static_cast<std::size_t>(got));
        if (text.size() > max_config_file_bytes) {
            return Refusal{"larger than " + std::to_string(max_config_file_bytes) + " bytes"};
        }
    }
}

std::variant<ConfigFileText, Refusal> read_opened(const std::string& path, const TrustRule& rule)
{
    if (path.empty() || path[0] != '/') {
        return Refusal{"path must be absolute"};
    }
    auto opened = open_trusted(path, rule.owner);
    if (auto* problem = std::get_if<Refusal>(&opened)) {
        return *problem;
    }
    const UniqueFd fd = std::move(std::get<UniqueFd>(opened));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return failed("cannot stat");
    }
    if (auto problem = check_file(st, rule)) {
        return *problem;
    }
    ConfigFileText result;
    result.path = path;
    result.world_readable = (st.st_mode & S_IROTH) != 0;
    result.identity = FileIdentity{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    if (auto problem = read_all(fd.get(), result.text)) {
        return *problem;
    }
    return result;
}

} // namespace

bool same_file(const FileIdentity& a, const FileIdentity& b) noexcept
{
    return a.device == b.device && a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec &&
           a.modified.tv_nsec == b.modified.tv_nsec;
}

std::variant<ConfigFileText, FileProblem> read_trusted_file(const std::string& path, const TrustRule& rule)
{
    auto read = read_opened(path, rule);
    if (auto* refusal = std::get_if<Refusal>(&read)) {
        return FileProblem{std::string(rule.what) + " " + path + ": " + refusal->problem, refusal->absent};
    }
    return std::move(std::get<ConfigFileText>(read));
}

std::variant<ConfigFileText, ConfigError> read_config_file(const std::string& path, uid_t required_owner,
                                                           const char* what)
{
    auto read = read_trusted_file(path, TrustRule{required_owner, false, what});
    if (auto* problem = std::get_if<FileProblem>(&read)) {
        return ConfigError{problem->message, true};
    }
    return std::move(std::get<ConfigFileText>(read));
}

} // namespace pam_oauth2
