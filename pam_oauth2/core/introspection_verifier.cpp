#include "introspection_verifier.hpp"
#include "settings.hpp"

#include "json.hpp"
#include "provider_json.hpp"

namespace pam_oauth2 {

VerifyResult IntrospectionVerifier::verify(const PresentedToken& token)
{
    static constexpr char hint_value[] = "access_token";
    const SecureString hint(hint_value);
    HttpRequest request;
    request.url = endpoints_.introspection_url;
    request.form_fields = {{"token", &token.secret()}, {"token_type_hint", &hint}};
    request.basic_user = endpoints_.client_id;
    request.basic_password = &endpoints_.client_secret;
    const HttpResult answer = http_.send(request);
    if (answer.transport_ok && (answer.status == 401 || answer.status == 403)) {
        // The endpoint judged our client, not the token: a configuration problem, not a refusal.
        return verify_result(VerifyStatus::Unavailable,
                             "introspection endpoint refused client_id " + endpoints_.client_id + " (HTTP " +
                                 std::to_string(answer.status) + "); check client_id and client_secret");
    }
    auto object = read_provider_json(answer, "introspection endpoint");
    if (auto* problem = std::get_if<std::string>(&object)) {
        return verify_result(VerifyStatus::Unavailable, std::move(*problem));
    }
    auto& claims = std::get<nlohmann::json>(object);
    const auto active = claims.find("active");
    if (active == claims.end() || !active->is_boolean()) {
        return verify_result(VerifyStatus::Unavailable, "introspection answer has no boolean 'active' member");
    }
    if (!active->get<bool>()) {
        return verify_result(VerifyStatus::Invalid,
                             "introspection says the token is not active (expired, revoked or unknown)");
    }
    VerifyResult result = verify_result(VerifyStatus::Valid, "");
    result.expires_at = integer_member(claims, "exp");
    result.claims = std::move(claims);
    return result;
}

} // namespace pam_oauth2
