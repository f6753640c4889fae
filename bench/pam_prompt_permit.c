/* A benchmark floor, never installed: asks the conversation for the password the way pam_oauth2 does
 * (pam_get_authtok, echo off) and then succeeds. pam_permit asks for nothing, so a PostgreSQL login
 * through it skips the client's password round trip that every password-reading module pays;
 * comparing with this module shows what pam_oauth2 itself adds. */
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <stddef.h>

__attribute__((visibility("default"))) int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc,
                                                               const char** argv)
{
    (void)flags;
    (void)argc;
    (void)argv;
    const char* token = NULL;
    return pam_get_authtok(pamh, PAM_AUTHTOK, &token, "Access token: ") == PAM_SUCCESS && token != NULL ? PAM_SUCCESS
                                                                                                        : PAM_AUTH_ERR;
}

__attribute__((visibility("default"))) int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}

__attribute__((visibility("default"))) int pam_sm_acct_mgmt(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
