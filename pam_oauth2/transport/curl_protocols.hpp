#pragma once

#include <curl/curl.h>

namespace pam_oauth2 {

/// Restricts the request and any redirect to https (and http with allow_http). libcurl 7.85 and
/// later take the list as text (CURLOPT_PROTOCOLS_STR); 7.76 to 7.84 (RHEL 9, Ubuntu 22.04) only
/// know the deprecated bitmask (CURLOPT_PROTOCOLS). Which one is decided by the libcurl loaded at
/// run time, not by the headers this was compiled against. False: libcurl refused the option.
bool restrict_protocols(CURL* curl, bool allow_http);

/// The option restrict_protocols sets with the libcurl loaded now: "CURLOPT_PROTOCOLS_STR" or
/// "CURLOPT_PROTOCOLS" (for the transport test, which checks that a forced build takes the old one).
const char* protocol_restriction_option();

} // namespace pam_oauth2
