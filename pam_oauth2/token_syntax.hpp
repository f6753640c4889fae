#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

/// Checks a token before any network call: not empty, at most `max_bytes`, and only RFC 6750
/// b64token characters (ALPHA DIGIT - . _ ~ + / then trailing =). Returns the refusal reason, or nullopt.
std::optional<std::string> check_token_syntax(std::string_view token, std::size_t max_bytes);

/// True when the token has the shape of a compact JWS (three base64url segments, a JSON header).
bool is_compact_jws(std::string_view token);

/// When a token looks cut short by a client (a JWS that does not split into three valid segments, or
/// a length that is a known client limit), a phrase saying so for the log; otherwise nullopt.
std::optional<std::string> truncation_hint(std::string_view token);

} // namespace pam_oauth2
