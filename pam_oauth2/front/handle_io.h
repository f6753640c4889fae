/* What pam_oauth2.so and the in-process verifier it loads both do with the PAM handle: write log
 * lines, collect the user and the token, keep the verdict for the account stage. One C
 * implementation, linked into both, so the broker path needs no C++ runtime. */
#ifndef PAM_OAUTH2_HANDLE_IO_H
#define PAM_OAUTH2_HANDLE_IO_H

#include <security/pam_modules.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One line to syslog through pam_syslog, or to stderr with the same "pam_oauth2(service:stage): "
 * prefix when `to_stderr` (log=stderr). */
void handle_log(pam_handle_t* pamh, int to_stderr, const char* stage, int priority, const char* line);

/* The PAM user and the token: PAM_AUTHTOK from an earlier module, or (unless use_first_pass) the
 * conversation with echo off, the only style PostgreSQL answers. Both point into libpam's memory.
 * PAM_SUCCESS, or the code to return with `why` saying what failed. */
int handle_collect(pam_handle_t* pamh, int use_first_pass, const char* prompt, const char** user, const char** token,
                   char* why, size_t why_size);

/* The verdict authentication leaves for the account stage. */
struct handle_verdict {
    int granted;
    int has_valid_until;
    int64_t valid_until; /* last accepted second (exp plus leeway) */
};
/* Replaces the verdict on the handle; PAM_SUCCESS or libpam's error. */
int handle_store_verdict(pam_handle_t* pamh, const struct handle_verdict* verdict);

/* pam_sm_acct_mgmt: PAM_IGNORE when pam_oauth2 did not authenticate this handle, PAM_ACCT_EXPIRED
 * (with a log line) when the token has expired since, PAM_SUCCESS otherwise. */
int handle_account(pam_handle_t* pamh, int to_stderr);

#ifdef __cplusplus
}
#endif

#endif
