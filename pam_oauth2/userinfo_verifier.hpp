#pragma once

#include "http_client.hpp"
#include "options.hpp"
#include "verifier.hpp"

namespace pam_oauth2 {

// OIDC userinfo: GET userinfo_url with the token as Bearer; 200 + JSON object means the provider
// accepts the token, 401/403 mean it does not.
class UserinfoVerifier final : public TokenVerifier {
public:
    UserinfoVerifier(const Options& options, HttpClient& http) : options_(options), http_(http) {}
    [[nodiscard]] const char* name() const override { return "userinfo"; }
    [[nodiscard]] bool applies_to(const SecureString&) const override { return true; }
    VerifyResult verify(const SecureString& token) override;

private:
    const Options& options_;
    HttpClient& http_;
};

} // namespace pam_oauth2
