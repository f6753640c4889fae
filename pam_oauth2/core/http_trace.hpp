#pragma once

#include "http_client.hpp"
#include "logger.hpp"

namespace pam_oauth2 {

/// Sends `request` through `client` and, when the logger has an observer, tells it the exchange and
/// its time (the observer sees the request and the answer; it must show neither the token, a form
/// value nor a header).
HttpResult send_traced(HttpClient& client, const HttpRequest& request, const Logger& logger);

} // namespace pam_oauth2
