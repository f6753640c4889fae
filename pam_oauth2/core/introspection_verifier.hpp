#pragma once

#include "endpoint_verifier.hpp"

namespace pam_oauth2 {

// RFC 7662: POST the token to introspection_url, authenticated as client_id/client_secret
// (client_secret_basic); the token counts only when the answer says "active": true.
class IntrospectionVerifier final : public EndpointVerifier {
public:
    using EndpointVerifier::EndpointVerifier;
    [[nodiscard]] const char* name() const override { return "introspect"; }
    VerifyResult verify(const PresentedToken& token) override;
};

} // namespace pam_oauth2
