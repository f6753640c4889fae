#include "logout_tls.hpp"

#include "config_file.hpp"
#include "daemon_config.hpp"
#include "secure_string.hpp"
#include "tls_server.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pam_oauth2 {
namespace {

// Who besides root may own the files: the user the daemon runs as (under a service manager that
// starts it as that user, a root-only key could not be read at all).
uid_t file_owner(const DaemonConfig& config)
{
    if (::geteuid() != 0) {
        return ::geteuid();
    }
    char buffer[4096];
    passwd entry{};
    passwd* found = nullptr;
    if (getpwnam_r(config.user.c_str(), &entry, buffer, sizeof buffer, &found) != 0 || found == nullptr) {
        return 0;
    }
    return found->pw_uid;
}

Fallible<ConfigFileText> read_file(const char* key, const std::string& path, uid_t owner)
{
    auto read = read_trusted_file(path, TrustRule{owner, true, key});
    if (auto* problem = std::get_if<FileProblem>(&read)) {
        return Failure{problem->message};
    }
    return std::get<ConfigFileText>(read);
}

// The key file's text; one others may read is refused: whoever holds the key can pose as the endpoint.
Fallible<SecureString> read_key(const std::string& path, uid_t owner)
{
    auto read = read_file("logout_tls_key_file", path, owner);
    if (!read.ok()) {
        return Failure{read.error()};
    }
    SecureString text(read.value().text); // the file's copy is wiped with it (ConfigFileText)
    struct stat st {};
    const auto& identity = read.value().identity;
    if (::stat(path.c_str(), &st) != 0 || st.st_ino != identity.inode || st.st_dev != identity.device) {
        return Failure{"logout_tls_key_file " + path + ": changed while it was read"};
    }
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        return Failure{"logout_tls_key_file " + path + ": must not be readable by group or others (chmod 0400)"};
    }
    return text;
}

} // namespace

Fallible<std::shared_ptr<const TlsServerContext>> load_logout_tls(const DaemonConfig& config)
{
    if (config.logout_tls_cert_file.empty() && config.logout_tls_key_file.empty()) {
        return std::shared_ptr<const TlsServerContext>();
    }
    const uid_t owner = file_owner(config);
    auto chain = read_file("logout_tls_cert_file", config.logout_tls_cert_file, owner);
    if (!chain.ok()) {
        return Failure{chain.error()};
    }
    auto key = read_key(config.logout_tls_key_file, owner);
    if (!key.ok()) {
        return Failure{key.error()};
    }
    auto context = TlsServerContext::create(chain.value().text, key.value());
    if (!context.ok()) {
        return Failure{"logout TLS: " + context.error() + " (" + config.logout_tls_cert_file + ", " +
                       config.logout_tls_key_file + ")"};
    }
    return context.value();
}

} // namespace pam_oauth2
