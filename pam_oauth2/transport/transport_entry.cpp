// The entry points of pam_oauth2_transport.so, the libcurl transport loaded by the module only when
// a login needs the network (loading libcurl and its ~30 dependencies costs ~5 ms per process, more
// than a whole JWT login from the cache). Only these two C symbols are exported.
#include "curl_http_client.hpp"
#include "pam_oauth2_abi_stamp.h"

#define PAM_OAUTH2_EXPORT __attribute__((visibility("default")))

// The loader compares it with its own: a helper built from other boundary headers is refused.
extern "C" PAM_OAUTH2_EXPORT int pam_oauth2_transport_abi() noexcept
{
    return PAM_OAUTH2_ABI_STAMP;
}

extern "C" PAM_OAUTH2_EXPORT pam_oauth2::HttpClient*
pam_oauth2_transport_create(const pam_oauth2::HttpSettings* settings) noexcept
{
    try {
        return pam_oauth2::make_curl_http_client(*settings).release();
    } catch (...) {
        return nullptr; // the loader reports it; no exception crosses a dlsym'd boundary
    }
}
