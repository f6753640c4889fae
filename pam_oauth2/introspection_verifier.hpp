#pragma once

#include "http_client.hpp"
#include "options.hpp"
#include "verifier.hpp"

namespace pam_oauth2 {

// RFC 7662: POST the token to introspection_url, authenticated as client_id/client_secret
// (client_secret_basic); the token counts only when the answer says "active": true.
class IntrospectionVerifier final : public TokenVerifier {
public:
    IntrospectionVerifier(const Options& options, HttpClient& http) : options_(options), http_(http) {}
    [[nodiscard]] const char* name() const override { return "introspect"; }
    [[nodiscard]] bool applies_to(const SecureString&) const override { return true; }
    VerifyResult verify(const SecureString& token) override;

private:
    const Options& options_;
    HttpClient& http_;
};

} // namespace pam_oauth2
