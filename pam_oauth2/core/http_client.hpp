#pragma once

#include "secure_string.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pam_oauth2 {

/// Identity provider answers larger than this are refused, not truncated.
constexpr std::size_t max_response_bytes = std::size_t{1024} * 1024;

// One request to the identity provider. Secrets are referenced, never copied into plain strings.
struct HttpRequest {
    std::string url;
    const SecureString* bearer_token = nullptr; // sent as Authorization: Bearer
    // When non-empty the request is a POST of application/x-www-form-urlencoded fields; the
    // transport encodes names and values.
    std::vector<std::pair<std::string, const SecureString*>> form_fields;
    // HTTP Basic client authentication (RFC 6749 section 2.3.1: both parts form-encoded first).
    std::string basic_user;
    const SecureString* basic_password = nullptr;
};

// What came back. A transport failure (no HTTP status at all) is kept apart from an HTTP answer,
// because they map to different PAM codes.
struct HttpResult {
    bool transport_ok = false;
    std::string transport_error; // curl's explanation; never contains request headers or bodies
    long status = 0;
    SecureString body;         // answers may echo the token, so they are wiped like it
    std::string cache_control; // the Cache-Control header, empty when absent
    long long date = 0;        // the Date header in seconds since the epoch, 0 when absent or unreadable
    // Never sent because policy forbids its host (pam_oauth2d's allow_hosts): not an outage of the
    // provider, so no cached copy stands in for the answer.
    bool refused_by_policy = false;
};

// Transport settings shared by every request of one login (the transport options of the table).
struct HttpSettings {
    std::string ca_file;
    std::string ca_path;
    long timeout_ms = 5000;
    long connect_timeout_ms = 2000;
    bool allow_http = false;
};

// The seam between the verifiers and the network: unit tests substitute a fake, the module uses
// the libcurl implementation (which is therefore the only code that links libcurl).
class HttpClient {
public:
    virtual ~HttpClient() = default;
    /// Performs one exchange; never throws for network trouble, only for programmer errors or OOM.
    virtual HttpResult send(const HttpRequest& request) = 0;
};

/// Makes the transport of one login (the module loads the libcurl helper, tests pass fakes).
using HttpClientFactory = std::function<std::unique_ptr<HttpClient>(const HttpSettings&)>;

} // namespace pam_oauth2
