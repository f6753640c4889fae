#pragma once

#include "http_client.hpp"
#include "settings.hpp"
#include "verifier.hpp"

namespace pam_oauth2 {

// OIDC userinfo: GET userinfo_url with the token as Bearer; 200 + JSON object means the provider
// accepts the token, 401/403 mean it does not. Judges every token.
class UserinfoVerifier final : public TokenVerifier {
public:
    UserinfoVerifier(const EndpointSettings& endpoints, HttpClient& http) : endpoints_(endpoints), http_(http) {}
    [[nodiscard]] const char* name() const override { return "userinfo"; }
    [[nodiscard]] bool applies_to(const PresentedToken&) const override { return true; }
    VerifyResult verify(const PresentedToken& token) override;

private:
    const EndpointSettings& endpoints_;
    HttpClient& http_;
};

} // namespace pam_oauth2
