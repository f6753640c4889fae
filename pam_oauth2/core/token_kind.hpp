#pragma once

#include "settings_fwd.hpp"
#include "verifier.hpp"

#include <optional>
#include <string>

namespace pam_oauth2 {

/// Access tokens only: refuses a token (JWT payload or introspection answer) that says it is an ID
/// token (typ ID/id_token, Cognito token_use id, a nonce without an RFC 9068 at+jwt header), unless
/// allow_id_tokens, and always one that says it is a refresh token (typ Refresh/Offline, token_use or
/// RFC 7662 token_type naming a refresh token). The reason, or nullopt for an access token.
std::optional<std::string> check_token_kind(const VerifyResult& result, const TokenRules& rules);

} // namespace pam_oauth2
