#pragma once

#include "http_client.hpp"
#include "secure_string.hpp"

#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pam_oauth2::token {

// What the sign-in helper needs from the identity provider, found by OIDC discovery.
struct ProviderEndpoints {
    std::string issuer;
    std::string token;
    std::string device_authorization; // empty when the provider offers no device flow
    std::string revocation;           // empty when none
    std::string authorization;        // empty when the provider offers no authorization endpoint
    // authorization_response_iss_parameter_supported (RFC 9207): the redirect must then carry iss.
    bool iss_parameter_supported = false;
};

// How a token request came back (RFC 6749 section 5, RFC 8628 section 3.5).
enum class GrantStatus {
    Issued,       // tokens in hand
    Pending,      // authorization_pending: the person has not finished yet
    SlowDown,     // slow_down: poll 5 s less often from now on
    Denied,       // access_denied: the person said no
    Expired,      // expired_token: the device code ran out
    InvalidGrant, // invalid_grant: the refresh token is no longer good (revoked, expired, rotated away)
    BadClient,    // invalid_client, unauthorized_client, unsupported_grant_type, invalid_scope, invalid_target
    Unavailable,  // no answer, 5xx, or an answer that is not one of the above
    Mismatch,     // a browser answer not for this sign-in: wrong state, iss or id_token nonce
};

// One answer of the token endpoint. The tokens are secrets: wiped when dropped, never printed but on
// standard output by the caller.
struct GrantResult {
    GrantStatus status = GrantStatus::Unavailable;
    std::string problem; // error and error_description, or the transport's reason; never a token
    SecureString access_token;
    SecureString refresh_token; // empty when the provider issued none
    std::optional<long long> expires_in;
    SecureString id_token; // empty when none; who signed in (sign_in_identity.hpp), its nonce checked by the code grant
};

// The fields a token or device request carries besides its grant: who asks and for what.
struct ClientRequest {
    std::string client_id;
    const SecureString* client_secret = nullptr; // confidential clients only (HTTP Basic)
    std::string scope;
    std::string audience;   // Auth0 and others: audience=
    std::string resource;   // RFC 8707: resource= (Entra v1, oidc-provider)
    std::string login_hint; // --account: sent on the authorization request (device or browser) only
};

/// Discovery from `issuer` (OpenID Connect Discovery 1.0): the document must name the same issuer,
/// and every endpoint must pass the module's URL policy. The reason when it cannot be used.
std::variant<ProviderEndpoints, std::string> discover(HttpClient& http, const std::string& issuer, bool allow_http);

/// POSTs `fields` plus the client's fields to the token endpoint and reads the answer.
GrantResult request_grant(HttpClient& http, const std::string& token_url, const ClientRequest& client,
                          std::vector<std::pair<std::string, const SecureString*>> fields);

/// The refresh_token grant (RFC 6749 section 6).
GrantResult refresh(HttpClient& http, const ProviderEndpoints& endpoints, const ClientRequest& client,
                    const SecureString& refresh_token);

/// Adds client_id, scope, audience and resource (the ones set) to a form. `keep` holds the values.
void add_client_fields(std::vector<std::pair<std::string, const SecureString*>>& fields, const ClientRequest& client,
                       std::deque<SecureString>& keep, bool with_scope);

} // namespace pam_oauth2::token
