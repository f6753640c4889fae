/* Loads pam_oauth2_inprocess.so (and with it the C++ runtime, OpenSSL and the core) the first time
 * a login is verified in this process; unloaded when pam_oauth2.so itself is. */
#ifndef PAM_OAUTH2_INPROCESS_LOADER_H
#define PAM_OAUTH2_INPROCESS_LOADER_H

#include "inprocess_abi.h"

#include <stddef.h>

/* The verifier's entry point, or NULL with `why` saying why it could not be loaded. */
inprocess_authenticate_function inprocess_load(char* why, size_t why_size);

#endif
