#pragma once

#include "http_client.hpp"

#include <memory>

namespace pam_oauth2 {

/// The hardened libcurl client: TLS checks always on, no redirects, size caps, no proxies or
/// tracing from the environment. The only code that links libcurl.
std::unique_ptr<HttpClient> make_curl_http_client(const HttpSettings& settings);

} // namespace pam_oauth2
