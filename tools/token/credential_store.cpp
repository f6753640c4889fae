#include "credential_store.hpp"

#include "json.hpp"
#include "text.hpp"
#include "unique_fd.hpp"
#include "user_directories.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <keyutils.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pam_oauth2::token {
namespace {

constexpr std::size_t max_stored_bytes = std::size_t{256} * 1024;

std::string errno_text()
{
    return std::strerror(errno);
}

// A 0600 file owned by us under the private cache directory.
class FileStore final : public CredentialStore {
public:
    explicit FileStore(std::string path) : path_(std::move(path)) {}

    std::variant<std::optional<StoredSignIn>, std::string> load() override
    {
        const UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        if (fd.get() < 0) {
            if (errno == ENOENT) {
                return std::optional<StoredSignIn>{};
            }
            return "cannot open " + path_ + ": " + errno_text();
        }
        struct stat info {};
        if (fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
            return path_ + " is not a regular file: refusing it";
        }
        if (info.st_uid != geteuid()) {
            return path_ + " belongs to uid " + std::to_string(info.st_uid) + ", not to you: refusing it";
        }
        if ((info.st_mode & 077) != 0) {
            return path_ + " is readable or writable by others (mode " + octal_mode(info.st_mode) +
                   "): refusing it; remove it (pam_oauth2_token --logout) and sign in again";
        }
        if (static_cast<std::size_t>(info.st_size) > max_stored_bytes) {
            return path_ + " is larger than " + std::to_string(max_stored_bytes) + " bytes: refusing it";
        }
        SecureString text;
        char buffer[4096];
        ssize_t got = 0;
        while ((got = ::read(fd.get(), buffer, sizeof buffer)) > 0) {
            text.append(std::string_view(buffer, static_cast<std::size_t>(got)));
        }
        OPENSSL_cleanse(buffer, sizeof buffer);
        auto parsed = deserialize(text.view());
        if (auto* problem = std::get_if<std::string>(&parsed)) {
            return path_ + ": " + *problem;
        }
        return std::optional<StoredSignIn>(std::move(std::get<StoredSignIn>(parsed)));
    }

    std::optional<std::string> save(const StoredSignIn& sign_in) override
    {
        const std::string temporary = path_ + ".new";
        ::unlink(temporary.c_str());
        const UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (fd.get() < 0) {
            return "cannot write " + temporary + ": " + errno_text();
        }
        std::string text = serialize(sign_in);
        const bool written =
            ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd.get()) == 0;
        OPENSSL_cleanse(text.data(), text.size());
        if (!written || ::rename(temporary.c_str(), path_.c_str()) != 0) {
            const std::string problem = "cannot write " + path_ + ": " + errno_text();
            ::unlink(temporary.c_str());
            return problem;
        }
        return std::nullopt;
    }

    std::optional<std::string> forget() override
    {
        if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
            return "cannot remove " + path_ + ": " + errno_text();
        }
        return std::nullopt;
    }

    [[nodiscard]] std::string where() const override { return "file " + path_; }

private:
    std::string path_;
};

// A "user" key in the user keyring of the kernel: it never touches a disk and lives until the user's
// last session ends. Only our uid may see or read it (possessor and user permissions, nothing else).
class KeyringStore final : public CredentialStore {
public:
    explicit KeyringStore(std::string description) : description_(std::move(description)) {}

    std::variant<std::optional<StoredSignIn>, std::string> load() override
    {
        const long key = keyctl_search(KEY_SPEC_USER_KEYRING, "user", description_.c_str(), 0);
        if (key < 0) {
            if (errno == ENOKEY || errno == EKEYEXPIRED || errno == EKEYREVOKED) {
                return std::optional<StoredSignIn>{};
            }
            return "cannot search the user keyring: " + errno_text();
        }
        void* payload = nullptr;
        const long size = keyctl_read_alloc(static_cast<key_serial_t>(key), &payload);
        if (size < 0) {
            return "cannot read key " + description_ + ": " + errno_text();
        }
        const SecureString text(std::string_view(static_cast<const char*>(payload), static_cast<std::size_t>(size)));
        OPENSSL_cleanse(payload, static_cast<std::size_t>(size));
        std::free(payload);
        auto parsed = deserialize(text.view());
        if (auto* problem = std::get_if<std::string>(&parsed)) {
            return "key " + description_ + ": " + *problem;
        }
        return std::optional<StoredSignIn>(std::move(std::get<StoredSignIn>(parsed)));
    }

    std::optional<std::string> save(const StoredSignIn& sign_in) override
    {
        std::string text = serialize(sign_in);
        const key_serial_t key = add_key("user", description_.c_str(), text.data(), text.size(), KEY_SPEC_USER_KEYRING);
        OPENSSL_cleanse(text.data(), text.size());
        if (key < 0) {
            return "cannot add key " + description_ + " to the user keyring: " + errno_text();
        }
        constexpr key_perm_t owner_only = KEY_POS_ALL | KEY_USR_ALL;
        if (keyctl_setperm(key, owner_only) != 0) {
            const std::string problem = "cannot restrict key " + description_ + ": " + errno_text();
            keyctl_invalidate(key);
            return problem;
        }
        return std::nullopt;
    }

    std::optional<std::string> forget() override
    {
        const long key = keyctl_search(KEY_SPEC_USER_KEYRING, "user", description_.c_str(), 0);
        if (key >= 0 && keyctl_invalidate(static_cast<key_serial_t>(key)) != 0) {
            return "cannot remove key " + description_ + ": " + errno_text();
        }
        return std::nullopt;
    }

    [[nodiscard]] std::string where() const override
    {
        return "kernel keyring (user keyring, key " + description_ + ")";
    }

    /// Whether this process may use the user keyring at all (containers often forbid the keyring
    /// system calls).
    static bool usable() { return keyctl_get_keyring_ID(KEY_SPEC_USER_KEYRING, 1) >= 0; }

private:
    std::string description_;
};

} // namespace

std::string serialize(const StoredSignIn& sign_in)
{
    const nlohmann::json document{{"refresh_token", std::string(sign_in.refresh_token.view())},
                                  {"access_token", std::string(sign_in.access_token.view())},
                                  {"access_expires_at", sign_in.access_expires_at},
                                  {"issuer", sign_in.issuer},
                                  {"client_id", sign_in.client_id},
                                  {"profile", sign_in.profile},
                                  {"account", sign_in.account},
                                  {"subject", sign_in.subject},
                                  {"username", sign_in.username},
                                  {"flow", sign_in.flow},
                                  {"signed_in_at", sign_in.signed_in_at}};
    // The json value's own copies are freed unwiped: this is a short-lived command, not the module.
    return document.dump();
}

std::variant<StoredSignIn, std::string> deserialize(std::string_view text)
{
    const auto document = parse_json_object(text);
    if (!document) {
        return std::string("not a stored sign-in (JSON object expected)");
    }
    StoredSignIn sign_in;
    sign_in.refresh_token = SecureString(string_member(*document, "refresh_token").value_or(""));
    sign_in.access_token = SecureString(string_member(*document, "access_token").value_or(""));
    sign_in.access_expires_at = integer_member(*document, "access_expires_at").value_or(0);
    // What earlier versions did not keep is empty: such a sign-in still works.
    for (auto [name, field] : {std::pair{"issuer", &sign_in.issuer},
                               {"client_id", &sign_in.client_id},
                               {"profile", &sign_in.profile},
                               {"account", &sign_in.account},
                               {"subject", &sign_in.subject},
                               {"username", &sign_in.username},
                               {"flow", &sign_in.flow}}) {
        *field = string_member(*document, name).value_or("");
    }
    sign_in.signed_in_at = integer_member(*document, "signed_in_at").value_or(0);
    return sign_in;
}

pam_oauth2::Fallible<std::string> private_cache_directory()
{
    using pam_oauth2::Failure;
    const std::string base = xdg_base_directory("XDG_CACHE_HOME", ".cache");
    if (base.empty()) {
        return Failure{"no home directory to keep the sign-in in"};
    }
    ::mkdir(base.c_str(), 0700); // the XDG base directory is created 0700 when missing, as the spec says
    const std::string directory = base + "/pam_oauth2";
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
        return Failure{"cannot create " + directory + ": " + errno_text()};
    }
    struct stat info {};
    if (::lstat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
        return Failure{directory + " is not a directory"};
    }
    if (info.st_uid != geteuid() || (info.st_mode & 077) != 0) {
        return Failure{directory + " must be yours and closed to others (mode " + octal_mode(info.st_mode) +
                       "): refusing to keep a sign-in there"};
    }
    return directory;
}

namespace {

// A key this helper made: 16 hex digits, or 16, "-" and 16 (an account).
bool is_sign_in_key(std::string_view key)
{
    const auto hex = [](std::string_view part) {
        return part.size() == 16 && part.find_first_not_of("0123456789abcdef") == std::string_view::npos;
    };
    return key.size() == 16 ? hex(key)
                            : key.size() == 33 && key[16] == '-' && hex(key.substr(0, 16)) && hex(key.substr(17));
}

bool belongs(const std::string& key, const std::string& prefix)
{
    return is_sign_in_key(key) && (prefix.empty() || key == prefix || key.rfind(prefix + "-", 0) == 0);
}

// The keys of our "user" keys in the user keyring ("pam_oauth2:KEY").
std::variant<std::vector<std::string>, std::string> keyring_keys()
{
    void* serials = nullptr;
    const long size = keyctl_read_alloc(KEY_SPEC_USER_KEYRING, &serials);
    if (size < 0) {
        return "cannot list the user keyring: " + errno_text();
    }
    std::vector<std::string> keys;
    const auto* serial = static_cast<const key_serial_t*>(serials);
    for (std::size_t i = 0; i < static_cast<std::size_t>(size) / sizeof(key_serial_t); ++i) {
        char* described = nullptr;
        if (keyctl_describe_alloc(serial[i], &described) < 0) {
            continue; // not ours to see
        }
        const std::string text(described);
        std::free(described);
        const std::string wanted = ";pam_oauth2:";
        const auto at = text.rfind(wanted);
        if (text.rfind("user;", 0) == 0 && at != std::string::npos) {
            keys.push_back(text.substr(at + wanted.size()));
        }
    }
    std::free(serials);
    return keys;
}

// The keys of the *.json files in the private cache directory.
std::variant<std::vector<std::string>, std::string> file_keys(const std::string& directory)
{
    DIR* listing = ::opendir(directory.c_str());
    if (listing == nullptr) {
        return "cannot list " + directory + ": " + errno_text();
    }
    std::vector<std::string> keys;
    while (const dirent* entry = ::readdir(listing)) {
        const std::string name = entry->d_name;
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
            keys.push_back(name.substr(0, name.size() - 5));
        }
    }
    ::closedir(listing);
    return keys;
}

} // namespace

std::variant<std::vector<KeptEntry>, std::string> list_stores(const std::string& kind, const std::string& prefix)
{
    const bool keyring = kind == "keyring" || (kind == "auto" && KeyringStore::usable());
    std::string directory;
    if (!keyring) {
        auto found = private_cache_directory();
        if (!found.ok()) {
            return found.error();
        }
        directory = found.value();
    }
    auto listed = keyring ? keyring_keys() : file_keys(directory);
    if (auto* problem = std::get_if<std::string>(&listed)) {
        return *problem;
    }
    auto& keys = std::get<std::vector<std::string>>(listed);
    std::sort(keys.begin(), keys.end());
    std::vector<KeptEntry> entries;
    for (const auto& key : keys) {
        if (belongs(key, prefix)) {
            auto opened = open_store(kind, key);
            if (auto* store = std::get_if<std::unique_ptr<CredentialStore>>(&opened)) {
                entries.push_back(KeptEntry{key, std::move(*store)});
            }
        }
    }
    return entries;
}

std::variant<std::unique_ptr<CredentialStore>, std::string> open_store(const std::string& kind, const std::string& key)
{
    if (kind == "keyring" || (kind == "auto" && KeyringStore::usable())) {
        if (!KeyringStore::usable()) {
            return "the kernel keyring is not available here: " + errno_text();
        }
        return std::make_unique<KeyringStore>("pam_oauth2:" + key);
    }
    auto directory = private_cache_directory();
    if (!directory.ok()) {
        return directory.error();
    }
    return std::make_unique<FileStore>(directory.value() + "/" + key + ".json");
}

} // namespace pam_oauth2::token
