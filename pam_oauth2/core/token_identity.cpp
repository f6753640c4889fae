#include "token_identity.hpp"

#include "logger.hpp"

#include <nlohmann/json.hpp>

namespace pam_oauth2 {
namespace {

std::string string_claim(const nlohmann::json& claims, const char* name)
{
    const auto found = claims.find(name);
    return found != claims.end() && found->is_string() ? found->get<std::string>() : std::string();
}

// aud is a string or an array of strings (RFC 7519 4.1.3); anything else is left out.
std::vector<std::string> audience_of(const nlohmann::json& claims)
{
    std::vector<std::string> audience;
    const auto found = claims.find("aud");
    if (found == claims.end()) {
        return audience;
    }
    if (found->is_string()) {
        audience.push_back(found->get<std::string>());
    } else if (found->is_array()) {
        for (const auto& entry : *found) {
            if (entry.is_string()) {
                audience.push_back(entry.get<std::string>());
            }
        }
    }
    return audience;
}

} // namespace

TokenIdentity identity_of(const nlohmann::json& claims, const std::string& configured_issuer)
{
    TokenIdentity identity;
    if (!claims.is_object()) {
        identity.issuer = configured_issuer;
        return identity;
    }
    identity.issuer = string_claim(claims, "iss");
    if (identity.issuer.empty()) {
        identity.issuer = configured_issuer;
    }
    identity.subject = string_claim(claims, "sub");
    identity.session_id = string_claim(claims, "sid");
    identity.client_id = string_claim(claims, "azp");
    if (identity.client_id.empty()) {
        identity.client_id = string_claim(claims, "client_id");
    }
    identity.audience = audience_of(claims);
    const std::string jti = string_claim(claims, "jti");
    if (!jti.empty()) {
        identity.jti_fingerprint = token_fingerprint(jti);
    }
    const auto exp = claims.find("exp");
    if (exp != claims.end() && exp->is_number_integer()) {
        identity.expires_at = exp->get<long long>();
    }
    return identity;
}

} // namespace pam_oauth2
