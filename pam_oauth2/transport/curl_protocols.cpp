#include "curl_protocols.hpp"

namespace pam_oauth2 {
namespace {

// The test build of the client (pam_oauth2_curl_old_paths) forces the libcurl 7.76 path on a machine
// with a newer libcurl; built against headers older than 7.85 (RHEL 9's own), it is the only one.
#if defined(PAM_OAUTH2_FORCE_OLD_CURL_PATHS) || LIBCURL_VERSION_NUM < 0x075500
#define PAM_OAUTH2_PROTOCOLS_BITMASK_ONLY
#endif

bool has_protocols_str()
{
#ifdef PAM_OAUTH2_PROTOCOLS_BITMASK_ONLY
    return false;
#else
    // 7.85.0, where CURLOPT_PROTOCOLS_STR and CURLOPT_REDIR_PROTOCOLS_STR appeared.
    constexpr unsigned int protocols_str_version = 0x075500;
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    return info != nullptr && info->version_num >= protocols_str_version;
#endif
}

bool restrict_with_bitmask(CURL* curl, bool allow_http)
{
    const long protocols = CURLPROTO_HTTPS | (allow_http ? CURLPROTO_HTTP : 0L);
    // Deprecated from 7.85 on, the only way before it; the warning would be an error here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return curl_easy_setopt(curl, CURLOPT_PROTOCOLS, protocols) == CURLE_OK &&
           curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, protocols) == CURLE_OK;
#pragma GCC diagnostic pop
}

} // namespace

bool restrict_protocols(CURL* curl, bool allow_http)
{
    if (!has_protocols_str()) {
        return restrict_with_bitmask(curl, allow_http);
    }
#ifndef PAM_OAUTH2_PROTOCOLS_BITMASK_ONLY
    const char* protocols = allow_http ? "http,https" : "https";
    return curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols) == CURLE_OK &&
           curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, protocols) == CURLE_OK;
#else
    return false; // not reached: has_protocols_str() is false here
#endif
}

const char* protocol_restriction_option()
{
    return has_protocols_str() ? "CURLOPT_PROTOCOLS_STR" : "CURLOPT_PROTOCOLS";
}

} // namespace pam_oauth2
