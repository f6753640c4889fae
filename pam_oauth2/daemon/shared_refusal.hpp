#pragma once

#include "authenticator.hpp"
#include "configuration.hpp"
#include "http_client.hpp"
#include "secure_string.hpp"
#include "shared_store.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pam_oauth2 {

/// A digest of every input of a refusal but the token, the same on every host with the same PAM line
/// and the same files: the module arguments, the content of every file the configuration was read
/// from, and the user. nullopt when a file is no longer what was read (nothing is shared then).
std::optional<std::string> refusal_fingerprint(const std::vector<std::string>& args, const Configuration& configuration,
                                               std::string_view user);

/// What a shared refusal holds: the decision's reason, method, validity and identity.
std::string encode_refusal(const Decision& decision);
/// The refusal `payload` holds; nullopt for anything else (another version, not a denial, malformed).
std::optional<Decision> decode_refusal(std::string_view payload);

/// Until when a refusal may be shared: `seconds` from `now`, never past the token's exp when known.
long long refusal_use_by(const Decision& decision, long seconds, long long now);

// The fleet's side of one login's refusal: before the login's first provider request it reads the
// refusal another host shared for the same token, arguments, files and user (a login answered from
// memory never gets there, so never touches Redis); when there is one, no request is sent and that
// refusal is the answer. A refusal decided here is shared for negative_cache seconds. "Unavailable"
// and every other outcome are never shared; an entry that does not open is a miss.
class FleetRefusal {
public:
    FleetRefusal(const SharedStore& store, const std::vector<std::string>& args, const Configuration& configuration,
                 std::string_view user, const SecureString& token, long remember_seconds);

    /// `inner`'s clients, each consulting the shared refusal once per login before its first request.
    [[nodiscard]] HttpClientFactory consult_before_sending(HttpClientFactory inner);
    /// The answer: the shared refusal when one was found, else `decided` (shared when a refusal).
    [[nodiscard]] Decision settle(Decision decided);
    /// True when the answer came from another host's refusal.
    [[nodiscard]] bool answered() const { return found_.has_value(); }
    /// How long this host may remember the answer: `remember_seconds`, or what is left of the shared
    /// refusal's life (whole seconds, rounded down), so a refusal read from another host does not
    /// outlive negative_cache counted from when it was decided.
    [[nodiscard]] long remember_seconds() const;

private:
    class Client;
    /// Reads the shared refusal, once; true when there is one.
    bool consult();
    const std::optional<std::string>& fingerprint();

    const SharedStore& store_;
    const std::vector<std::string>& args_;
    const Configuration& configuration_;
    std::string user_;
    std::string token_digest_;
    long remember_seconds_;
    bool active_;
    bool consulted_ = false;
    std::optional<std::optional<std::string>> fingerprint_;
    std::optional<Decision> found_;
    long long found_until_ = 0; // the shared refusal's use-by, Unix seconds
};

} // namespace pam_oauth2
