#pragma once

#include "endpoint_verifier.hpp"

namespace pam_oauth2 {

// OIDC userinfo: GET userinfo_url with the token as Bearer; 200 + JSON object means the provider
// accepts the token, 401/403 mean it does not.
class UserinfoVerifier final : public EndpointVerifier {
public:
    using EndpointVerifier::EndpointVerifier;
    [[nodiscard]] const char* name() const override { return "userinfo"; }
    VerifyResult verify(const PresentedToken& token) override;
};

} // namespace pam_oauth2
