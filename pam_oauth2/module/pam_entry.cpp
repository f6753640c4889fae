// The module's C ABI: the only file that defines pam_sm_*. Each entry point is one expression behind
// the exception firewall, so no C++ exception can unwind into libpam or the host process.
#include "firewall.hpp"
#include "stages.hpp"

#include <security/pam_modules.h>

#define PAM_OAUTH2_EXPORT __attribute__((visibility("default")))

extern "C" PAM_OAUTH2_EXPORT int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
    return pam_oauth2::guarded(pamh, [&] { return pam_oauth2::authentication_stage(pamh, flags, argc, argv); });
}

extern "C" PAM_OAUTH2_EXPORT int pam_sm_setcred(pam_handle_t* /*pamh*/, int /*flags*/, int /*argc*/,
                                                const char** /*argv*/)
{
    return PAM_SUCCESS;
}

extern "C" PAM_OAUTH2_EXPORT int pam_sm_acct_mgmt(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
    return pam_oauth2::guarded(pamh, [&] { return pam_oauth2::account_stage(pamh, flags, argc, argv); });
}
