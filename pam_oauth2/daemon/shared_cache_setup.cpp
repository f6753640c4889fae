#include "shared_cache_setup.hpp"

#include "config_file.hpp"
#include "daemon_config.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

namespace pam_oauth2 {
namespace {

namespace sc = shared_cache;

// Who may own the secret files: root, or the user the daemon runs as (after dropping root, a reload
// reads them as that user, so a root-owned 0600 file is readable only at start).
uid_t secret_owner(const DaemonConfig& config)
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

// The file's text with one trailing newline removed; a file others may read is refused: it holds a
// secret of the whole fleet.
Fallible<SecureString> read_secret(const std::string& key, const std::string& path, uid_t owner)
{
    auto read = read_trusted_file(path, TrustRule{owner, true, "shared cache secret"});
    if (auto* problem = std::get_if<FileProblem>(&read)) {
        return Failure{key + " " + problem->message};
    }
    const auto& file = std::get<ConfigFileText>(read);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || st.st_ino != file.identity.inode || st.st_dev != file.identity.device) {
        return Failure{key + " " + path + ": changed while it was read"};
    }
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        return Failure{key + " " + path + ": must not be readable by group or others (chmod 0400)"};
    }
    std::string_view text = file.text;
    if (!text.empty() && text.back() == '\n') {
        text.remove_suffix(1);
    }
    return SecureString(text);
}

Fallible<sc::FleetKeys> derive_keys(const DaemonConfig& config, uid_t owner)
{
    if (config.shared_cache_key_file.empty()) {
        return Failure{"shared_cache is set but shared_cache_key_file is not: entries are sealed with it"};
    }
    auto current = read_secret("shared_cache_key_file", config.shared_cache_key_file, owner);
    if (!current.ok()) {
        return Failure{current.error()};
    }
    SecureString previous;
    if (!config.shared_cache_previous_key_file.empty()) {
        auto read = read_secret("shared_cache_previous_key_file", config.shared_cache_previous_key_file, owner);
        if (!read.ok()) {
            return Failure{read.error()};
        }
        previous = std::move(read.value());
    }
    const auto short_one = current.value().size() < sc::FleetKeys::min_secret_bytes ? "shared_cache_key_file"
                           : !previous.empty() && previous.size() < sc::FleetKeys::min_secret_bytes
                               ? "shared_cache_previous_key_file"
                               : nullptr;
    if (short_one != nullptr) {
        return Failure{std::string(short_one) + " must hold at least " +
                       std::to_string(sc::FleetKeys::min_secret_bytes) + " bytes (openssl rand -base64 48 makes one)"};
    }
    auto keys = sc::FleetKeys::derive(current.value().view(), previous.view());
    if (!keys.ok()) {
        return Failure{"shared_cache_key_file: " + keys.error()};
    }
    return std::move(keys.value());
}

Fallible<std::shared_ptr<const sc::TlsClientContext>> tls_context(const DaemonConfig& config, bool tls)
{
    const bool any = !config.shared_cache_ca_file.empty() || !config.shared_cache_tls_cert.empty() ||
                     !config.shared_cache_tls_key.empty();
    if (!tls) {
        if (any) {
            return Failure{"shared_cache_ca_file, shared_cache_tls_cert and shared_cache_tls_key need a rediss:// "
                           "shared_cache"};
        }
        return std::shared_ptr<const sc::TlsClientContext>();
    }
    if (config.shared_cache_tls_cert.empty() != config.shared_cache_tls_key.empty()) {
        return Failure{"shared_cache_tls_cert and shared_cache_tls_key go together"};
    }
    auto context = sc::TlsClientContext::create(
        {config.shared_cache_ca_file, config.shared_cache_tls_cert, config.shared_cache_tls_key});
    if (!context.ok()) {
        return Failure{"shared_cache TLS: " + context.error()};
    }
    return context.value();
}

} // namespace

Fallible<std::shared_ptr<const SharedCacheSetup>> load_shared_cache_setup(const DaemonConfig& config)
{
    auto endpoint = sc::parse_redis_endpoint(config.shared_cache);
    if (!endpoint.ok()) {
        return Failure{"shared_cache " + endpoint.error()};
    }
    const uid_t owner = secret_owner(config);
    auto keys = derive_keys(config, owner);
    if (!keys.ok()) {
        return Failure{keys.error()};
    }
    SecureString password;
    if (!config.shared_cache_password_file.empty()) {
        auto read = read_secret("shared_cache_password_file", config.shared_cache_password_file, owner);
        if (!read.ok()) {
            return Failure{read.error()};
        }
        if (read.value().empty()) {
            return Failure{"shared_cache_password_file " + config.shared_cache_password_file + ": is empty"};
        }
        password = std::move(read.value());
    }
    auto tls = tls_context(config, endpoint.value().tls);
    if (!tls.ok()) {
        return Failure{tls.error()};
    }
    auto setup = std::make_shared<SharedCacheSetup>(
        SharedCacheSetup{std::move(endpoint.value()), std::move(keys.value()), std::move(password), tls.value(),
                         config.shared_cache_prefix, std::chrono::milliseconds(config.shared_cache_budget_ms),
                         std::chrono::milliseconds(config.shared_cache_lease_ms)});
    return std::shared_ptr<const SharedCacheSetup>(std::move(setup));
}

} // namespace pam_oauth2
