#pragma once

#include "presented_token.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

/// Checks a token before any network call: not empty, at most `max_bytes`, and only RFC 6750
/// b64token characters (ALPHA DIGIT - . _ ~ + / then trailing =). Returns the refusal reason, or nullopt.
std::optional<std::string> check_token_syntax(std::string_view token, std::size_t max_bytes);

/// When a token looks cut short by a client (it starts like a JWS but does not parse as one, or its
/// length is a known client limit), a phrase saying so for the log; otherwise nullopt.
std::optional<std::string> truncation_hint(const PresentedToken& token);

} // namespace pam_oauth2
