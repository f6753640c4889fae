/* pam_oauth2.so: the module libpam loads. Small C on purpose: with `broker`, a login costs a Unix
 * socket round trip to pam_oauth2d and loads neither the C++ runtime, OpenSSL nor libcurl into the
 * host process; without it (or when the daemon cannot answer and broker_fallback=local) the C++
 * verifier pam_oauth2_inprocess.so is loaded and decides here. The only file that defines pam_sm_*. */
#include "broker_client.h"
#include "front_options.h"
#include "handle_io.h"
#include "inprocess_loader.h"

#include <security/pam_modules.h>

#include <stdio.h>
#include <syslog.h>

#define PAM_OAUTH2_EXPORT __attribute__((visibility("default")))

static int verify_in_process(pam_handle_t* pamh, int flags, int argc, const char** argv, const char* token,
                             int log_stderr)
{
    char why[600];
    inprocess_authenticate_function authenticate = inprocess_load(why, sizeof why);
    if (authenticate == NULL) {
        char line[700];
        snprintf(line, sizeof line, "result=error reason=\"%s\" method=none", why);
        handle_log(pamh, log_stderr, "auth", LOG_ERR, line);
        return PAM_SYSTEM_ERR;
    }
    struct handle_verdict verdict = {0, 0, 0};
    const int code = authenticate(pamh, flags, argc, argv, token, &verdict);
    if (code == PAM_SUCCESS && handle_store_verdict(pamh, &verdict) != PAM_SUCCESS) {
        handle_log(pamh, log_stderr, "auth", LOG_ERR,
                   "result=error reason=\"cannot store the verdict on the PAM handle\" method=none");
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
        char line[400];
        snprintf(line, sizeof line, "result=config_error reason=\"configuration error: %s\" method=none", why);
        handle_log(pamh, options.log_stderr, "auth", LOG_ERR, line);
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
        snprintf(line, sizeof line, "result=unavailable reason=\"%s; broker_fallback=deny\" method=broker", login.why);
        handle_log(pamh, options.log_stderr, "auth", LOG_ERR, line);
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
