#pragma once

#include "http_client.hpp"
#include "settings_fwd.hpp"
#include "verifier.hpp"

namespace pam_oauth2 {

// What the methods that ask an identity provider endpoint share: they judge every token, and reach
// the provider through the transport of the login. Each method lives in its own file.
class EndpointVerifier : public TokenVerifier {
public:
    EndpointVerifier(const EndpointSettings& endpoints, HttpClient& http) : endpoints_(endpoints), http_(http) {}
    [[nodiscard]] bool applies_to(const PresentedToken&) const override { return true; }

protected:
    const EndpointSettings& endpoints_;
    HttpClient& http_;
};

} // namespace pam_oauth2
