#pragma once

#include "clock.hpp"
#include "http_client.hpp"
#include "logger.hpp"
#include "options.hpp"
#include "outcome.hpp"
#include "secure_string.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

using HttpClientFactory = std::function<std::unique_ptr<HttpClient>(const HttpSettings&)>;

// The verdict of one login, before it becomes a PAM code and a log line.
struct Decision {
    Outcome outcome = Outcome::InternalError;
    std::string reason;
    std::string method;                  // verifier that decided, empty when none ran
    std::optional<long long> expires_at; // token exp when known, for pam_sm_acct_mgmt
    bool user_loggable = false;          // the PAM user passed validation and may appear in logs
};

/// The use case: user checks -> token syntax -> the first verify method that applies -> claim
/// rules. Pure of PAM; the network is reached only through `make_http`.
Decision authenticate_token(std::string_view user, const SecureString& token, const Options& options,
                            const HttpClientFactory& make_http, const Clock& now, const Logger& logger);

} // namespace pam_oauth2
