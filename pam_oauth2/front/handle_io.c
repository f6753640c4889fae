#include "handle_io.h"

#include <security/pam_ext.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static const char verdict_key[] = "pam_oauth2_verdict";

void handle_log(pam_handle_t* pamh, int to_stderr, const char* stage, int priority, const char* line)
{
    if (!to_stderr) {
        pam_syslog(pamh, priority, "%s", line);
        return;
    }
    const void* service = NULL;
    if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS || service == NULL) {
        service = "";
    }
    /* Same prefix as pam_syslog, so lines read alike in the PostgreSQL log and in the journal. */
    fprintf(stderr, "pam_oauth2(%s:%s): %s\n", (const char*)service, stage, line);
}

int handle_collect(pam_handle_t* pamh, int use_first_pass, const char* prompt, const char** user, const char** token,
                   char* why, size_t why_size)
{
    int status = pam_get_user(pamh, user, NULL);
    if (status == PAM_SUCCESS && *user == NULL) {
        status = PAM_USER_UNKNOWN;
    }
    if (status != PAM_SUCCESS) {
        if (status == PAM_CONV_AGAIN) {
            snprintf(why, why_size, "conversation asked to be called again (user)");
            return PAM_INCOMPLETE;
        }
        snprintf(why, why_size, "cannot get the PAM user: %s", pam_strerror(pamh, status));
        return PAM_AUTH_ERR;
    }
    *token = NULL;
    if (use_first_pass) {
        /* Only what an earlier module collected; never prompt. */
        const void* item = NULL;
        status = pam_get_item(pamh, PAM_AUTHTOK, &item);
        *token = item;
    } else {
        /* Reuses PAM_AUTHTOK when an earlier module set it (try_first_pass behaviour). */
        status = pam_get_authtok(pamh, PAM_AUTHTOK, token, prompt);
    }
    if (status == PAM_SUCCESS && *token == NULL) {
        status = PAM_AUTHTOK_RECOVERY_ERR;
    }
    if (status != PAM_SUCCESS) {
        /* A conversation that wants to be called again is not a refusal (pam_unix does the same). */
        if (status == PAM_CONV_AGAIN) {
            snprintf(why, why_size, "conversation asked to be called again (token)");
            return PAM_INCOMPLETE;
        }
        snprintf(why, why_size, "no token received: %s", pam_strerror(pamh, status));
        return PAM_AUTH_ERR;
    }
    return PAM_SUCCESS;
}

static void free_verdict(pam_handle_t* pamh, void* data, int error_status)
{
    (void)pamh;
    (void)error_status;
    free(data);
}

int handle_store_verdict(pam_handle_t* pamh, const struct handle_verdict* verdict)
{
    struct handle_verdict* stored = malloc(sizeof *stored);
    if (stored == NULL) {
        return PAM_BUF_ERR;
    }
    *stored = *verdict;
    const int status = pam_set_data(pamh, verdict_key, stored, free_verdict);
    if (status != PAM_SUCCESS) {
        free(stored);
    }
    return status;
}

int handle_account(pam_handle_t* pamh, int to_stderr)
{
    const void* data = NULL;
    if (pam_get_data(pamh, verdict_key, &data) != PAM_SUCCESS || data == NULL) {
        return PAM_IGNORE; /* not ours to judge: pam_oauth2 did not authenticate this handle */
    }
    const struct handle_verdict* verdict = data;
    if (!verdict->granted) {
        return PAM_IGNORE;
    }
    if (verdict->has_valid_until && (int64_t)time(NULL) > verdict->valid_until) {
        handle_log(pamh, to_stderr, "account", LOG_NOTICE,
                   "result=denied reason=\"token expired after authentication\" method=account");
        return PAM_ACCT_EXPIRED;
    }
    return PAM_SUCCESS;
}
