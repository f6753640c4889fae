#pragma once

#include "token_endpoint.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pam_oauth2::token {

// The authorization request of the native-app flow (RFC 8252, RFC 6749 section 4.1.1, OIDC Core 3.1.2.1).
struct AuthorizationRequest {
    std::string endpoint;
    std::string client_id;
    std::string redirect_uri;
    std::string scope;
    std::string state;
    std::string nonce;
    std::string code_challenge; // S256 (RFC 7636 section 4.3)
    std::string prompt;         // empty: none sent
    std::string audience;
    std::string resource;
    std::string login_hint;
};

/// The URL the browser opens: the endpoint with the request's parameters appended, percent-encoded.
std::string authorization_url(const AuthorizationRequest& request);

/// The parameters of a query string (percent-decoded, '+' as space); nullopt when one is named twice
/// (RFC 6749 section 3.1) or an escape is malformed.
std::optional<std::map<std::string, std::string>> parse_query(const std::string& query);

// What the redirect must show to be the answer to this sign-in.
struct RedirectExpectation {
    std::string state;
    std::string issuer;
    bool iss_required = false; // the provider advertises RFC 9207
};

/// The authorization code of a redirect, or why it is refused: a provider error (access_denied and
/// the others of RFC 6749 section 4.1.2.1), a missing or wrong state or iss (Mismatch), no code.
std::variant<SecureString, GrantResult> read_redirect(const std::string& query, const RedirectExpectation& expected);

/// The id_token's nonce and issuer checked against ours; the reason when they differ. The token came
/// straight from the token endpoint over verified TLS, which OIDC Core 3.1.3.7 accepts in place of
/// its signature; the signature is not checked here.
std::optional<std::string> id_token_problem(const SecureString& id_token, const std::string& nonce,
                                            const std::string& issuer);

// How the browser flow reaches the person, and for how long it waits.
struct BrowserFlowSettings {
    std::vector<int> ports; // empty: an ephemeral port
    std::string host = "127.0.0.1";
    std::string prompt;
    std::string login_hint;
    long long wait_seconds = 300;
};

struct BrowserFlowHooks {
    std::function<void(const std::string& url, int port)> show; // opens the browser and/or prints the URL
};

/// The authorization code grant with PKCE on a loopback redirect: listens, shows the URL, waits for
/// the redirect until the deadline, checks it, exchanges the code, and answers the browser with a
/// page saying how it ended.
GrantResult browser_sign_in(HttpClient& http, const ProviderEndpoints& endpoints, const ClientRequest& client,
                            const BrowserFlowSettings& settings, const BrowserFlowHooks& hooks);

} // namespace pam_oauth2::token
