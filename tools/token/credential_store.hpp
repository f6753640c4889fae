#pragma once

#include "fallible.hpp"
#include "secure_string.hpp"

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pam_oauth2::token {

// What is kept between calls for one sign-in (issuer, client, scope, audience): the refresh token,
// and the last access token with its expiry so that a burst of connections asks the provider once.
struct StoredSignIn {
    SecureString refresh_token;
    SecureString access_token;
    long long access_expires_at = 0;
    // Who and where, for --status (none of it a secret; empty in what earlier versions kept).
    std::string issuer;
    std::string client_id;
    std::string profile;
    std::string account;  // --account; empty: the default account
    std::string subject;  // "sub" of the id_token (else of a JWT access token)
    std::string username; // preferred_username, email or upn from the same claims
    std::string flow;     // how the person signed in: "device", "browser"
    long long signed_in_at = 0;
};

// Where a sign-in is kept: the kernel keyring of the user, or a 0600 file under the user's cache
// directory. Never the environment, never a file anyone else can read.
class CredentialStore {
public:
    virtual ~CredentialStore() = default;
    /// The stored sign-in; nullopt when there is none; the reason when what is there cannot be
    /// trusted (a file readable by others, owned by someone else, not a regular file).
    virtual std::variant<std::optional<StoredSignIn>, std::string> load() = 0;
    /// Replaces the stored sign-in; the reason when it cannot.
    virtual std::optional<std::string> save(const StoredSignIn& sign_in) = 0;
    /// Forgets it (nothing stored is not an error).
    virtual std::optional<std::string> forget() = 0;
    /// "kernel keyring (user keyring, key pam_oauth2:...)" or "file ...", for messages.
    [[nodiscard]] virtual std::string where() const = 0;
};

/// The per-user directory of the helper: $XDG_CACHE_HOME/pam_oauth2 or ~/.cache/pam_oauth2, created
/// 0700; refused when it exists with another owner or open to others. The reason when unusable.
pam_oauth2::Fallible<std::string> private_cache_directory();

/// A store for the sign-in named `key` (a hash of what identifies it). `kind` is "keyring", "file"
/// or "auto" (the keyring when the kernel lets us use it, else the file).
std::variant<std::unique_ptr<CredentialStore>, std::string> open_store(const std::string& kind, const std::string& key);

/// One kept sign-in found by list_stores: its key and a store to load or forget it.
struct KeptEntry {
    std::string key;
    std::unique_ptr<CredentialStore> store;
};

/// Every sign-in kept in the store `kind` (as open_store chooses it) whose key is `prefix` or starts
/// with `prefix` and "-" (the accounts of one profile); every one when `prefix` is empty. Sorted by
/// key. The reason when the store cannot be listed.
std::variant<std::vector<KeptEntry>, std::string> list_stores(const std::string& kind, const std::string& prefix);

/// The JSON text a store keeps, and back; the reason when the text is not one.
std::string serialize(const StoredSignIn& sign_in);
std::variant<StoredSignIn, std::string> deserialize(std::string_view text);

} // namespace pam_oauth2::token
