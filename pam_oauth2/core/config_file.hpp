#pragma once

#include "config_error.hpp"

#include <openssl/crypto.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctime>
#include <string>
#include <variant>

namespace pam_oauth2 {

/// Largest trusted file accepted; a bigger one is a configuration error, not a truncation.
constexpr std::size_t max_config_file_bytes = std::size_t{64} * 1024;

// Which file a configuration was read from, as fstat saw it on the opened descriptor: a cache of
// loaded configurations compares these to tell a changed file from the same one.
struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    timespec modified{};
};

/// Whether two identities name the same file with the same size and modification time.
bool same_file(const FileIdentity& a, const FileIdentity& b) noexcept;

// The text of a trusted file as read by read_trusted_file, with what the secret rules need to know.
// The text may hold client_secret, so it is wiped when the value dies (copies included).
struct ConfigFileText {
    std::string path;
    std::string text;
    bool world_readable = false;
    FileIdentity identity{};
    ~ConfigFileText() { OPENSSL_cleanse(text.data(), text.size()); }
};

// Who may own a trusted file and the directories on its way.
struct TrustRule {
    uid_t owner = 0;           // the file's owner; directories may belong to root or to this uid
    bool root_may_own = false; // a user's own file: also accepted when root owns it
    const char* what = "conf file";
};

// Why a trusted file could not be read; `absent` when it (or a directory on its way) does not exist.
struct FileProblem {
    std::string message; // "WHAT PATH: problem"
    bool absent = false;
};

/// Opens a file that decides who logs in (conf=, username_map=, pam_oauth2d.conf, a user's token
/// profiles) safely: an absolute path walked from "/" one directory at a time, each directory owned
/// by root or `rule.owner` and not writable by others (unless sticky), no symlink as the file, no
/// blocking open, then on the opened descriptor: a regular file owned as `rule` says, not group- or
/// world-writable, at most max_config_file_bytes. Returns its text or what rule it broke.
std::variant<ConfigFileText, FileProblem> read_trusted_file(const std::string& path, const TrustRule& rule);

/// read_trusted_file for a file owned by `required_owner` alone, its problem as a ConfigError in a
/// file (logged at LOG_ALERT).
std::variant<ConfigFileText, ConfigError> read_config_file(const std::string& path, uid_t required_owner = 0,
                                                           const char* what = "conf file");

} // namespace pam_oauth2
