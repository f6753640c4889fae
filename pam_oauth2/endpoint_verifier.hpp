#pragma once

#include "http_client.hpp"
#include "options.hpp"
#include "verifier.hpp"

namespace pam_oauth2 {

// What the verifiers that ask an identity provider endpoint share: they judge every token and
// reach the provider through the transport of the login.
class EndpointVerifier : public TokenVerifier {
public:
    [[nodiscard]] bool applies_to(const SecureString&) const override { return true; }

protected:
    EndpointVerifier(const Options& options, HttpClient& http) : options_(options), http_(http) {}

    const Options& options_;
    HttpClient& http_;
};

// OIDC userinfo: GET userinfo_url with the token as Bearer; 200 + JSON object means the provider
// accepts the token, 401/403 mean it does not.
class UserinfoVerifier final : public EndpointVerifier {
public:
    UserinfoVerifier(const Options& options, HttpClient& http) : EndpointVerifier(options, http) {}
    [[nodiscard]] const char* name() const override { return "userinfo"; }
    VerifyResult verify(const SecureString& token) override;
};

// RFC 7662: POST the token to introspection_url, authenticated as client_id/client_secret
// (client_secret_basic); the token counts only when the answer says "active": true.
class IntrospectionVerifier final : public EndpointVerifier {
public:
    IntrospectionVerifier(const Options& options, HttpClient& http) : EndpointVerifier(options, http) {}
    [[nodiscard]] const char* name() const override { return "introspect"; }
    VerifyResult verify(const SecureString& token) override;
};

} // namespace pam_oauth2
