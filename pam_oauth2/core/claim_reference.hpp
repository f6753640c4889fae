#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

// How options name a claim (username_claim, groups_claim, require_claim): a plain name is one
// top-level claim taken literally, whatever it holds (`cognito:groups`, `https://example.com/roles`);
// a reference that starts with `/` is an RFC 6901 JSON Pointer into nested claims
// (`/realm_access/roles`, `/kubernetes.io/serviceaccount/name`).

/// Why `reference` cannot name a claim (empty, or a pointer with a bad `~` escape); nullopt when it can.
std::optional<std::string> check_claim_reference(std::string_view reference);

/// The claim `reference` names in `claims`, or nullptr when there is none. Never throws.
const nlohmann::json* find_claim(const nlohmann::json& claims, std::string_view reference);

} // namespace pam_oauth2
