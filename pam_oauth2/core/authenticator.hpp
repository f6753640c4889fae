#pragma once

#include "cache.hpp"
#include "clock.hpp"
#include "http_client.hpp"
#include "logger.hpp"
#include "outcome.hpp"
#include "secure_string.hpp"
#include "settings_fwd.hpp"
#include "token_identity.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

// The verdict of one login, before it becomes a PAM code and a log line.
struct Decision {
    Outcome outcome = Outcome::InternalError;
    std::string reason;
    std::string method;                    // verifier that decided, empty when none ran
    std::optional<long long> valid_until;  // last second the token is accepted (exp + leeway), when known
    bool user_loggable = false;            // the PAM user passed validation and may appear in logs
    std::optional<TokenIdentity> identity; // from the verified claims, granted or refused by a rule
};

/// The use case, shared by every front end: user checks -> token syntax (no network for either) ->
/// the verifiers built for this configuration -> the first verify method that applies decides ->
/// claim rules. Pure of PAM; the network is reached only through `make_http`.
/// Documents and verdicts are kept in `store` when given (pam_oauth2d's memory), else in the disk cache.
Decision decide_login(std::string_view user, const SecureString& token, const Configuration& configuration,
                      const HttpClientFactory& make_http, const Clock& now, const Logger& logger,
                      const DocumentStore* store = nullptr);

} // namespace pam_oauth2
