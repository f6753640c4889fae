#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

/// Strict base64url decoding (RFC 4648 section 5, no padding, as JWS uses it): any character outside
/// the alphabet, a length of 1 mod 4, or non-zero trailing bits gives nullopt.
std::optional<std::string> base64url_decode(std::string_view text);

} // namespace pam_oauth2
