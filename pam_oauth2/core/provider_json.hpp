#pragma once

#include "http_client.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

namespace pam_oauth2 {

/// Reads an identity provider's answer that must be a JSON object (userinfo, introspection,
/// discovery, JWKS): transport failures, redirects, any status other than 200 and a body that is not
/// one JSON object give the reason, naming `endpoint`. Callers handle the statuses that mean "token
/// refused" before calling this.
std::variant<nlohmann::json, std::string> read_provider_json(const HttpResult& answer, const std::string& endpoint);

} // namespace pam_oauth2
