#pragma once

#include "token_endpoint.hpp"

#include <functional>
#include <string>

namespace pam_oauth2::token {

// What the person is asked to do (RFC 8628 section 3.2), shown by the caller.
struct DeviceSignIn {
    std::string user_code;
    std::string verification_uri;
    std::string verification_uri_complete; // empty when the provider gives none
    long long expires_in = 0;
    long long interval = 5;
};

// What the device flow needs from the outside world, so tests can run it without waiting.
struct DeviceFlowHooks {
    std::function<void(const DeviceSignIn&)> show;              // print the URL, the code, the QR code
    std::function<void(long long waited, long long left)> wait; // progress while polling
    std::function<void(long long seconds)> sleep;
    std::function<long long()> now;
};

/// The device authorization grant: asks for a device code, shows it, then polls the token endpoint
/// as RFC 8628 section 3.4-3.5 says: every `interval` seconds (5 when the provider names none),
/// 5 s more after each slow_down, until tokens come, the person denies, or the code expires.
/// BadClient when the provider has no device endpoint or refuses the client.
GrantResult device_sign_in(HttpClient& http, const ProviderEndpoints& endpoints, const ClientRequest& client,
                           const DeviceFlowHooks& hooks);

} // namespace pam_oauth2::token
