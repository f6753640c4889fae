/* The broker path of pam_sm_authenticate: one login handed to pam_oauth2d over its Unix socket. */
#ifndef PAM_OAUTH2_BROKER_CLIENT_H
#define PAM_OAUTH2_BROKER_CLIENT_H

#include "front_options.h"
#include "handle_io.h"

#include <security/pam_modules.h>

struct broker_login {
    int answered; /* 1: the daemon decided, pam_code holds its answer */
    int pam_code;
    struct handle_verdict verdict;
    char why[512];     /* when not answered: why the daemon could not be used */
    const char* token; /* the token, if collected before the daemon failed (libpam's memory) */
};

/* Runs the login through the daemon at options->socket_path. Never blocks past the daemon's time
 * budget (plus one second); logs the daemon's decision line when it answers. */
void broker_authenticate(pam_handle_t* pamh, const struct front_options* options, int argc, const char** argv,
                         struct broker_login* login);

#endif
