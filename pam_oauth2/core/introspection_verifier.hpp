#pragma once

#include "http_client.hpp"
#include "settings.hpp"
#include "verifier.hpp"

namespace pam_oauth2 {

// RFC 7662: POST the token to introspection_url, authenticated as client_id/client_secret
// (client_secret_basic); the token counts only when the answer says "active": true. Judges every token.
class IntrospectionVerifier final : public TokenVerifier {
public:
    IntrospectionVerifier(const EndpointSettings& endpoints, HttpClient& http) : endpoints_(endpoints), http_(http) {}
    [[nodiscard]] const char* name() const override { return "introspect"; }
    [[nodiscard]] bool applies_to(const PresentedToken&) const override { return true; }
    VerifyResult verify(const PresentedToken& token) override;

private:
    const EndpointSettings& endpoints_;
    HttpClient& http_;
};

} // namespace pam_oauth2
