#pragma once

#include "http_client.hpp"
#include "logger.hpp"

namespace pam_oauth2 {

/// Sends `request` through `client` and, when the logger has a trace, records the exchange as an
/// "http" step: request kind, URL, status or transport error, size, time, Cache-Control and Date.
/// Never the token, a form value or a header.
HttpResult send_traced(HttpClient& client, const HttpRequest& request, const Logger& logger);

} // namespace pam_oauth2
