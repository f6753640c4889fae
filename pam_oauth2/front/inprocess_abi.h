/* The one entry point pam_oauth2.so calls in pam_oauth2_inprocess.so, the C++ verifier it loads
 * when a login is verified in this process (no `broker`, or the broker's fallback). */
#ifndef PAM_OAUTH2_INPROCESS_ABI_H
#define PAM_OAUTH2_INPROCESS_ABI_H

#include "handle_io.h"
#include "pam_oauth2_abi_stamp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The stamp generated from this header and the other boundary headers (pam_oauth2/loader/): the
 * front refuses a verifier of another build. */
#define INPROCESS_ABI_VERSION PAM_OAUTH2_ABI_STAMP
#define INPROCESS_FILE_NAME "pam_oauth2_inprocess.so"

/* int pam_oauth2_inprocess_abi(void): answers INPROCESS_ABI_VERSION. */
typedef int (*inprocess_abi_function)(void);

/* Verifies one login as pam_sm_authenticate would and fills *verdict (granted only on
 * PAM_SUCCESS). `token` is the token the broker path already collected, or NULL to collect it here.
 * Never lets an exception out. */
typedef int (*inprocess_authenticate_function)(pam_handle_t* pamh, int flags, int argc, const char** argv,
                                               const char* token, struct handle_verdict* verdict);

#ifdef __cplusplus
}
#endif

#endif
