#include "stages.hpp"

#include "authenticator.hpp"
#include "firewall.hpp"
#include "lifetime.hpp"
#include "pam_context.hpp"
#include "settings_parser.hpp"
#include "transport_loader.hpp"

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <chrono>
#include <variant>

namespace pam_oauth2 {
namespace {

std::vector<std::string_view> to_args(int argc, const char** argv)
{
    std::vector<std::string_view> args;
    for (int i = 0; i < argc; ++i) {
        if (argv[i] != nullptr) {
            args.emplace_back(argv[i]);
        }
    }
    return args;
}

// Before options are parsed we still need somewhere to report a broken configuration; honour a
// log=stderr argument so container setups see the error where they look.
LogTarget early_log_target(const std::vector<std::string_view>& args)
{
    for (const auto arg : args) {
        if (arg == "log=stderr") {
            return LogTarget::Stderr;
        }
    }
    return LogTarget::Syslog;
}

int conversation_failure_code(int status)
{
    // A conversation that wants to be called again is not a refusal (pam_unix does the same).
    return status == PAM_CONV_AGAIN ? PAM_INCOMPLETE : status;
}

} // namespace

void log_firewall(pam_handle_t* pamh, int priority, const char* what) noexcept
{
    pam_syslog(pamh, priority, "%s", what);
}

int authentication_stage(pam_handle_t* pamh, int /*flags*/, int argc, const char** argv)
{
    const auto started = std::chrono::steady_clock::now();
    const PamContext pam(pamh);
    const auto args = to_args(argc, argv);
    // Fail closed from the start: success is set on exactly one path below.
    pam.store_verdict(StoredVerdict{});

    auto loaded = load_configuration(args);
    if (auto* error = std::get_if<ConfigError>(&loaded)) {
        const Logger logger = pam.make_logger(LogSettings{false, early_log_target(args)}, "auth");
        DecisionRecord record;
        record.outcome = Outcome::ConfigError;
        record.reason = "configuration error: " + error->message;
        logger.log(error->in_file ? LOG_ALERT : LOG_ERR, format_decision(record));
        return to_pam_code(Outcome::ConfigError);
    }
    const Configuration& configuration = std::get<Configuration>(loaded);
    const Settings& settings = configuration.settings;
    const Logger logger = pam.make_logger(settings.log, "auth");
    logger.debug("options: " + describe_settings(settings));

    DecisionRecord record;
    record.rhost = pam.rhost();
    const auto finish = [&](Outcome outcome, std::string reason) {
        record.outcome = outcome;
        record.reason = std::move(reason);
        record.elapsed_ms = static_cast<long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
        logger.log(decision_priority(outcome), format_decision(record));
        return to_pam_code(outcome);
    };

    std::string user;
    if (const int status = pam.user(user); status != PAM_SUCCESS) {
        if (status == PAM_CONV_AGAIN) {
            return finish(Outcome::ConversationAgain, "conversation asked to be called again (user)");
        }
        return finish(Outcome::Denied, std::string("cannot get the PAM user: ") + pam_strerror(pamh, status));
    }
    SecureString token;
    if (const int status = pam.token(settings.conversation, token); status != PAM_SUCCESS) {
        if (conversation_failure_code(status) == PAM_INCOMPLETE) {
            return finish(Outcome::ConversationAgain, "conversation asked to be called again (token)");
        }
        return finish(Outcome::Denied, std::string("no token received: ") + pam_strerror(pamh, status));
    }
    record.token_fingerprint = token_fingerprint(token.view());

    const Decision decision = decide_login(user, token, configuration, make_loaded_http_client, system_now, logger);
    record.method = decision.method;
    if (decision.user_loggable) {
        record.user = user;
    }
    if (decision.outcome == Outcome::Granted) {
        if (pam.store_verdict(StoredVerdict{true, decision.valid_until}) != PAM_SUCCESS) {
            return finish(Outcome::InternalError, "cannot store the verdict on the PAM handle");
        }
    }
    return finish(decision.outcome, decision.reason);
}

int account_stage(pam_handle_t* pamh, int /*flags*/, int argc, const char** argv)
{
    const PamContext pam(pamh);
    const auto verdict = pam.stored_verdict();
    if (!verdict || !verdict->granted) {
        // Not ours to judge: this handle was not authenticated by pam_oauth2.
        return PAM_IGNORE;
    }
    if (verdict->valid_until && is_past(*verdict->valid_until, system_now())) {
        const auto args = to_args(argc, argv);
        const Logger logger = pam.make_logger(LogSettings{false, early_log_target(args)}, "account");
        logger.log(LOG_NOTICE, "result=denied reason=\"token expired after authentication\" method=account");
        return PAM_ACCT_EXPIRED;
    }
    return PAM_SUCCESS;
}

} // namespace pam_oauth2
