#include "login.hpp"
#include "configuration.hpp"

#include "option_table.hpp"
#include "settings_parser.hpp"

#include <syslog.h>

#include <chrono>

namespace pam_oauth2 {
namespace {

long milliseconds_since(std::chrono::steady_clock::time_point started)
{
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
}

// The one line a login writes, logged at `priority` and returned with what follows from it.
LoginResult finish(DecisionRecord record, int priority, const Logger& logger)
{
    LoginResult result;
    result.line = format_decision(record);
    result.pam_code = to_pam_code(record.outcome);
    result.priority = priority;
    result.record = std::move(record);
    logger.log(result.priority, result.line);
    return result;
}

// A configuration that cannot be used: one line, without user, token or time (nothing was collected).
LoginResult configuration_failed(const ConfigError& error, const LoginRequest& request,
                                 const LoginDependencies& dependencies)
{
    DecisionRecord record;
    record.outcome = Outcome::ConfigError;
    record.reason = "configuration error: " + error.message;
    const Logger logger = dependencies.make_logger(log_settings_of_arguments(request.args));
    LoginResult result = finish(std::move(record), error.in_file ? LOG_ALERT : LOG_ERR, logger);
    result.configuration_error = error;
    return result;
}

Decision decide_collected(const Collected& collected, const Configuration& configuration,
                          const LoginDependencies& dependencies, const Logger& logger)
{
    if (dependencies.decide) {
        return dependencies.decide(collected.user, *collected.token, configuration, logger);
    }
    return decide_login(collected.user, *collected.token, configuration, dependencies.make_http, dependencies.now,
                        logger, dependencies.store);
}

} // namespace

LogSettings log_settings_of_arguments(const std::vector<std::string_view>& args)
{
    const OptionSpec* log = find_option("log");
    LogSettings chosen;
    for (const auto arg : args) {
        const auto equals = arg.find('=');
        if (log != nullptr && equals != std::string_view::npos && arg.substr(0, equals) == log->name) {
            Settings candidate;
            if (!log->set(candidate, arg.substr(equals + 1))) {
                chosen.target = candidate.log.target;
            }
        }
    }
    return chosen;
}

LoginResult login(const LoginRequest& request, const LoginDependencies& dependencies)
{
    return login(load_configuration(request.args), request, dependencies);
}

LoginResult login(const std::variant<Configuration, ConfigError>& loaded, const LoginRequest& request,
                  const LoginDependencies& dependencies)
{
    if (const auto* error = std::get_if<ConfigError>(&loaded)) {
        return login(*error, request, dependencies);
    }
    return login(std::get<Configuration>(loaded), request, dependencies);
}

LoginResult login(const ConfigError& error, const LoginRequest& request, const LoginDependencies& dependencies)
{
    return configuration_failed(error, request, dependencies);
}

LoginResult login(const Configuration& configuration, const LoginRequest& request,
                  const LoginDependencies& dependencies)
{
    const auto started = std::chrono::steady_clock::now();
    Logger logger = dependencies.make_logger(configuration.settings.log);
    logger.set_observer(dependencies.observer);
    logger.debug("options: " + describe_settings(configuration.settings));

    DecisionRecord record;
    record.rhost = request.rhost;
    const Collected collected = request.collect(configuration);
    Decision decision;
    if (collected.token) {
        record.token_fingerprint = token_fingerprint(collected.token->view());
        decision = decide_collected(collected, configuration, dependencies, logger);
    } else {
        decision.outcome = collected.refusal;
        decision.reason = collected.why;
    }
    record.outcome = decision.outcome;
    record.reason = std::move(decision.reason);
    record.method = std::move(decision.method);
    if (decision.user_loggable) {
        record.user = collected.user;
    }
    record.elapsed_ms = milliseconds_since(started);
    LoginResult result = finish(std::move(record), decision_priority(decision.outcome), logger);
    if (decision.outcome == Outcome::Granted) {
        result.verdict = AccountVerdict{true, decision.valid_until};
    }
    result.identity = std::move(decision.identity);
    return result;
}

} // namespace pam_oauth2
