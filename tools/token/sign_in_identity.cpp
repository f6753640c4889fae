#include "sign_in_identity.hpp"

#include "base64url.hpp"
#include "json.hpp"

namespace pam_oauth2::token {

SignInIdentity identity_of(std::string_view jwt)
{
    const auto first = jwt.find('.');
    const auto second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
    if (second == std::string_view::npos) {
        return {};
    }
    const auto payload = base64url_decode(jwt.substr(first + 1, second - first - 1));
    const auto claims = payload ? parse_json_object(*payload) : std::nullopt;
    if (!claims) {
        return {};
    }
    SignInIdentity identity;
    identity.subject = string_member(*claims, "sub").value_or(""); // shown through printable()
    for (const char* name : {"preferred_username", "email", "upn"}) {
        if (auto value = string_member(*claims, name); value && !value->empty()) {
            identity.username = *value;
            break;
        }
    }
    return identity;
}

} // namespace pam_oauth2::token
