/* pam_oauth2.so: the module libpam loads. Small C on purpose: with `broker`, a login costs a Unix
 * socket round trip to pam_oauth2d and loads neither the C++ runtime, OpenSSL nor libcurl into the
 * host process; without it (or when the daemon cannot answer and broker_fallback=local) the C++
 * verifier pam_oauth2_inprocess.so is loaded and decides here. The only file that defines pam_sm_*. */
#include "broker_client.h"
#include "decision_line.h"
#include "front_options.h"
#include "handle_io.h"
#include "inprocess_loader.h"

#include <security/pam_modules.h>

#include <stdio.h>
#include <syslog.h>

#define PAM_OAUTH2_EXPORT __attribute__((visibility("default")))

/* A decision the front makes itself, as one line in the core's form (decision_line.h). The reasons
 * here are at most a few hundred bytes; escaping can make each byte four. */
static void log_decision(pam_handle_t* pamh, int log_stderr, int priority, const char* result, const char* reason,
                         const char* method)
{
    char line[3072];
    const struct decision_fields fields = {result, reason, NULL, method, NULL, NULL, 0};
    decision_line(line, sizeof line, &fields);
    handle_log(pamh, log_stderr, "auth", priority, line);
}

static int verify_in_process(pam_handle_t* pamh, int flags, int argc, const char** argv, const char* token,
                             int log_stderr)
{
    char why[600];
    inprocess_authenticate_function authenticate = inprocess_load(why, sizeof why);
    if (authenticate == NULL) {
        log_decision(pamh, log_stderr, LOG_ERR, "error", why, NULL);
        return PAM_SYSTEM_ERR;
    }
    struct handle_verdict verdict = {0, 0, 0};
    const int code = authenticate(pamh, flags, argc, argv, token, &verdict);
    if (code == PAM_SUCCESS && handle_store_verdict(pamh, &verdict) != PAM_SUCCESS) {
        log_decision(pamh, log_stderr, LOG_ERR, "error", "cannot store the verdict on the PAM handle", NULL);
        return PAM_SYSTEM_ERR;
    }
    return code;
}

PAM_OAUTH2_EXPORT int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
    /* Fail closed from the start: success is stored on exactly one path of each kind below. */
    const struct handle_verdict refused = {0, 0, 0};
    struct front_options options;
    char why[300];
    if (handle_store_verdict(pamh, &refused) != PAM_SUCCESS) {
        return PAM_BUF_ERR;
    }
    if (front_parse_options(argc, argv, &options, why, sizeof why) != 0) {
        char reason[400];
        (void)snprintf(reason, sizeof reason, "configuration error: %s", why);
        log_decision(pamh, options.log_stderr, LOG_ERR, "config_error", reason, NULL);
        return PAM_SERVICE_ERR;
    }
    if (options.socket_path == NULL) {
        return verify_in_process(pamh, flags, argc, argv, NULL, options.log_stderr);
    }
    struct broker_login login;
    broker_authenticate(pamh, &options, argc, argv, &login);
    if (login.answered) {
        if (login.pam_code == PAM_SUCCESS && handle_store_verdict(pamh, &login.verdict) != PAM_SUCCESS) {
            return PAM_SYSTEM_ERR;
        }
        return login.pam_code;
    }
    char line[700];
    if (options.fallback == fallback_deny) {
        char reason[700];
        (void)snprintf(reason, sizeof reason, "%s; broker_fallback=deny", login.why);
        log_decision(pamh, options.log_stderr, LOG_ERR, "unavailable", reason, "broker");
        return PAM_AUTHINFO_UNAVAIL;
    }
    snprintf(line, sizeof line, "broker unavailable, verifying in-process: %s", login.why);
    handle_log(pamh, options.log_stderr, "auth", LOG_WARNING, line);
    return verify_in_process(pamh, flags, argc, argv, login.token, options.log_stderr);
}

PAM_OAUTH2_EXPORT int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}

PAM_OAUTH2_EXPORT int pam_sm_acct_mgmt(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
    (void)flags;
    struct front_options options;
    char why[300];
    if (front_parse_options(argc, argv, &options, why, sizeof why) != 0) {
        options.log_stderr = 0;
    }
    return handle_account(pamh, options.log_stderr);
}
