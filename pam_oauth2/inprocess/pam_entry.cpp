// The verifier's C ABI (inprocess_abi.h), called by pam_oauth2.so: each entry point is one
// expression behind the exception firewall, so no C++ exception can unwind into libpam or the host.
#include "firewall.hpp"
#include "inprocess_abi.h"
#include "stages.hpp"

#define PAM_OAUTH2_EXPORT __attribute__((visibility("default")))

extern "C" PAM_OAUTH2_EXPORT int pam_oauth2_inprocess_abi()
{
    return INPROCESS_ABI_VERSION;
}

extern "C" PAM_OAUTH2_EXPORT int pam_oauth2_inprocess_authenticate(pam_handle_t* pamh, int /*flags*/, int argc,
                                                                   const char** argv, const char* token,
                                                                   handle_verdict* verdict)
{
    *verdict = handle_verdict{};
    return pam_oauth2::guarded(pamh,
                               [&] { return pam_oauth2::authentication_stage(pamh, argc, argv, token, *verdict); });
}
