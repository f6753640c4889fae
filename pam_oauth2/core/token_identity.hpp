#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pam_oauth2 {

// Who a verified token speaks for and what it is, as far as its claims say: what the audit trail
// records and what session tracking keys on. Never the token itself; `jti` only as a fingerprint.
struct TokenIdentity {
    std::string issuer;     // iss, or the configured issuer for userinfo answers (they carry none)
    std::string subject;    // sub
    std::string session_id; // sid, when the provider puts one in the token
    std::string client_id;  // azp, else client_id
    std::vector<std::string> audience;
    std::string jti_fingerprint;         // token_fingerprint of the jti (as the token's own), empty without one
    std::optional<long long> expires_at; // exp
};

/// The identity in verified claims. `configured_issuer` stands in when the claims have no string iss.
/// Claims of the wrong type are left out, never guessed.
TokenIdentity identity_of(const nlohmann::json& claims, const std::string& configured_issuer);

} // namespace pam_oauth2
