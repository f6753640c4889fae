/* A stand-in for pam_oauth2_inprocess.so and pam_oauth2_transport.so with a chosen ABI stamp, so the
 * tests can show that the loader refuses a module of another build. Built as test_stamp_right.so
 * (this build's stamp), test_stamp_wrong.so (another) and test_stamp_no_entry.so (no entry points).
 * It answers every entry point with a refusal, so a login through it can never succeed. */
#include "pam_oauth2_abi_stamp.h"

#include <security/pam_modules.h>

#include <stddef.h>

#define STAMPED_EXPORT __attribute__((visibility("default")))

#ifndef STAMPED_STAMP
#define STAMPED_STAMP PAM_OAUTH2_ABI_STAMP
#endif

struct handle_verdict;

STAMPED_EXPORT int pam_oauth2_inprocess_abi(void);
STAMPED_EXPORT int pam_oauth2_transport_abi(void);

STAMPED_EXPORT int pam_oauth2_inprocess_abi(void)
{
    return STAMPED_STAMP;
}

STAMPED_EXPORT int pam_oauth2_transport_abi(void)
{
    return STAMPED_STAMP;
}

#ifndef STAMPED_WITHOUT_ENTRY
STAMPED_EXPORT int pam_oauth2_inprocess_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv,
                                                     const char* token, struct handle_verdict* verdict);
STAMPED_EXPORT void* pam_oauth2_transport_create(const void* settings);

STAMPED_EXPORT int pam_oauth2_inprocess_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv,
                                                     const char* token, struct handle_verdict* verdict)
{
    (void)pamh, (void)flags, (void)argc, (void)argv, (void)token, (void)verdict;
    return PAM_SYSTEM_ERR;
}

STAMPED_EXPORT void* pam_oauth2_transport_create(const void* settings)
{
    (void)settings;
    return NULL;
}
#endif
