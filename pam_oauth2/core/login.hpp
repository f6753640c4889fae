#pragma once

#include "authenticator.hpp"
#include "config_error.hpp"
#include "logger.hpp"
#include "outcome.hpp"
#include "secure_string.hpp"
#include "settings_fwd.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

class LoginObserver;

// What a front end collected from the application: the PAM user and the token, or why it could not.
struct Collected {
    std::string user;                  // as libpam gave it (validated by the decision before it is logged)
    std::optional<SecureString> token; // nullopt: not collected, `refusal` and `why` say why
    Outcome refusal = Outcome::Denied; // Denied, or ConversationAgain when the application asks to be called again
    std::string why;
};

/// How a front end collects user and token, once the configuration says how (prompt, use_first_pass).
/// Called only for a configuration that loaded.
using Collect = std::function<Collected(const Configuration& configuration)>;

// One login as a front end sees it.
struct LoginRequest {
    std::vector<std::string_view> args; // the module arguments, as in the pam.d line
    std::string rhost;                  // PAM_RHOST, empty when unknown
    Collect collect;
};

/// The decision for a collected token (decide_login, or the daemon's cached and shared decisions).
using Decide = std::function<Decision(std::string_view user, const SecureString& token,
                                      const Configuration& configuration, const Logger& logger)>;

// What a login works with, injected by each front end.
struct LoginDependencies {
    HttpClientFactory make_http; // the transport, made only when a login needs the network
    Clock now = system_now;
    /// The logger of one login for the log settings the configuration asks for (target, debug); for
    /// a configuration error, the target the arguments name. Front ends may ignore either.
    std::function<Logger(const LogSettings& log)> make_logger;
    const DocumentStore* store = nullptr; // documents and verdicts in memory (pam_oauth2d); null: disk
    LoginObserver* observer = nullptr;    // told each step of the decision (pam_oauth2_check --explain)
    Decide decide;                        // empty: decide_login with make_http, now and store
};

// What authentication leaves for the account stage.
struct AccountVerdict {
    bool granted = false;
    std::optional<long long> valid_until; // last accepted second (exp plus leeway), when known
};

// Everything one login came to. The decision line was already logged through the login's logger.
struct LoginResult {
    DecisionRecord record; // outcome, reason, user (when loggable), method, token fingerprint, rhost, ms
    std::string line;      // format_decision(record)
    int pam_code = 0;
    int priority = 0; // the line's syslog priority: LOG_ALERT for a conf-file error, LOG_ERR for arguments
    AccountVerdict verdict;
    std::optional<TokenIdentity> identity;          // who the token speaks for, once its claims were verified
    std::optional<ConfigError> configuration_error; // set when the configuration could not be used
};

/// The whole login for module arguments: load_configuration, then as below.
LoginResult login(const LoginRequest& request, const LoginDependencies& dependencies);

/// The whole login for a configuration already loaded (or its error; pam_oauth2d adds errors of its
/// own, such as a host outside allow_hosts): a configuration error is one line at LOG_ALERT (conf
/// file) or LOG_ERR; otherwise collect, decide, one decision line at decision_priority. The line is
/// logged through `dependencies.make_logger` and returned, with the PAM code and the verdict.
LoginResult login(const std::variant<Configuration, ConfigError>& loaded, const LoginRequest& request,
                  const LoginDependencies& dependencies);

/// The same for a configuration that loaded (pam_oauth2d passes the one it keeps, without a copy).
LoginResult login(const Configuration& configuration, const LoginRequest& request,
                  const LoginDependencies& dependencies);

/// The same for a configuration that cannot be used: its one line, nothing collected.
LoginResult login(const ConfigError& error, const LoginRequest& request, const LoginDependencies& dependencies);

/// Where the lines of a configuration that did not load go: `log` read from the arguments with the
/// option table's own parse (the last valid value wins), syslog otherwise; debug off.
LogSettings log_settings_of_arguments(const std::vector<std::string_view>& args);

} // namespace pam_oauth2
