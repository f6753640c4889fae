// The entry points of pam_oauth2_transport.so, the libcurl transport loaded by the module only when
// a login needs the network (loading libcurl and its ~30 dependencies costs ~5 ms per process, more
// than a whole JWT login from the cache). Only these two C symbols are exported.
#include "curl_http_client.hpp"
#include "transport_abi.hpp"

#define PAM_OAUTH2_EXPORT __attribute__((visibility("default")))

extern "C" PAM_OAUTH2_EXPORT int pam_oauth2_transport_abi() noexcept
{
    return pam_oauth2::transport_abi_version;
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
