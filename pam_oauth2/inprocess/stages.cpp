#include "stages.hpp"
#include "configuration.hpp"

#include "audit_stage.hpp"
#include "firewall.hpp"
#include "login.hpp"
#include "pam_context.hpp"
#include "transport_loader.hpp"

#include <security/pam_modules.h>
#include <syslog.h>

#include <atomic>

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

// User and token from libpam as the configuration asks; the broker path hands over the token it
// already collected (`token`), so the user is not asked twice.
Collected collect(pam_handle_t* pamh, const Settings& settings, const char* token)
{
    const char* user = nullptr;
    const char* collected = nullptr;
    char why[256] = {};
    Collected result;
    if (const int status = handle_collect(pamh, settings.conversation.use_first_pass ? 1 : 0,
                                          settings.conversation.prompt.c_str(), &user, &collected, why, sizeof why);
        status != PAM_SUCCESS) {
        result.refusal = status == PAM_INCOMPLETE ? Outcome::ConversationAgain : Outcome::Denied;
        result.why = why;
        return result;
    }
    result.user = user;
    result.token.emplace(token != nullptr ? token : collected);
    return result;
}

// session_* options are pam_oauth2d's: only the daemon sees the backend that asked. Said once per
// process, so that a line without broker (or a fallback to local) does not pass for a policy applied.
void note_session_options(const PamContext& pam, const Settings& settings)
{
    static std::atomic<bool> noted{false};
    if (settings.sessions.any() && !noted.exchange(true)) {
        pam.make_logger(settings.log, "auth")
            .log(LOG_NOTICE, "session_* options apply only to logins through pam_oauth2d (broker); this login is "
                             "verified in-process and its session is not tracked");
    }
}

} // namespace

void log_firewall(pam_handle_t* pamh, int priority, const char* what) noexcept
{
    handle_log(pamh, 0, "auth", priority, what);
}

int authentication_stage(pam_handle_t* pamh, int argc, const char** argv, const char* token, handle_verdict& verdict)
{
    const PamContext pam(pamh);
    LoginRequest request;
    request.args = to_args(argc, argv);
    request.rhost = pam.rhost();
    request.collect = [pamh, token, &pam](const Configuration& configuration) {
        note_session_options(pam, configuration.settings);
        return collect(pamh, configuration.settings, token);
    };
    LoginDependencies dependencies;
    dependencies.make_http = make_loaded_http_client;
    dependencies.make_logger = [&pam](const LogSettings& log) { return pam.make_logger(log, "auth"); };

    const auto loaded = load_configuration(request.args);
    const LoginResult result = login(loaded, request, dependencies);
    if (const auto* configuration = std::get_if<Configuration>(&loaded)) {
        audit_inprocess_login(pamh, configuration->settings, result,
                              pam.make_logger(configuration->settings.log, "auth"));
    }
    if (result.verdict.granted) {
        verdict.granted = 1;
        verdict.has_valid_until = result.verdict.valid_until ? 1 : 0;
        verdict.valid_until = result.verdict.valid_until.value_or(0);
    }
    return result.pam_code;
}

} // namespace pam_oauth2
