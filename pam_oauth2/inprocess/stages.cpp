#include "stages.hpp"

#include "authenticator.hpp"
#include "firewall.hpp"
#include "pam_context.hpp"
#include "settings_parser.hpp"
#include "transport_loader.hpp"

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

} // namespace

void log_firewall(pam_handle_t* pamh, int priority, const char* what) noexcept
{
    handle_log(pamh, 0, "auth", priority, what);
}

int authentication_stage(pam_handle_t* pamh, int argc, const char** argv, const char* token, handle_verdict& verdict)
{
    const auto started = std::chrono::steady_clock::now();
    const PamContext pam(pamh);
    const auto args = to_args(argc, argv);

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

    const char* user = nullptr;
    const char* collected = nullptr;
    char why[256] = {};
    if (const int status = handle_collect(pamh, settings.conversation.use_first_pass ? 1 : 0,
                                          settings.conversation.prompt.c_str(), &user, &collected, why, sizeof why);
        status != PAM_SUCCESS) {
        return finish(status == PAM_INCOMPLETE ? Outcome::ConversationAgain : Outcome::Denied, why);
    }
    // The broker path hands over the token it already collected, so the user is not asked twice.
    const SecureString secret(token != nullptr ? token : collected);
    record.token_fingerprint = token_fingerprint(secret.view());

    const Decision decision = decide_login(user, secret, configuration, make_loaded_http_client, system_now, logger);
    record.method = decision.method;
    if (decision.user_loggable) {
        record.user = user;
    }
    if (decision.outcome == Outcome::Granted) {
        verdict.granted = 1;
        verdict.has_valid_until = decision.valid_until ? 1 : 0;
        verdict.valid_until = decision.valid_until.value_or(0);
    }
    return finish(decision.outcome, decision.reason);
}

} // namespace pam_oauth2
