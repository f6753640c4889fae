#include "endpoint_verifier.hpp"

#include "idp_answer.hpp"
#include "json.hpp"

namespace pam_oauth2 {

VerifyResult IntrospectionVerifier::verify(const SecureString& token)
{
    static constexpr char hint_value[] = "access_token";
    const SecureString hint(hint_value);
    HttpRequest request;
    request.url = options_.introspection_url;
    request.form_fields = {{"token", &token}, {"token_type_hint", &hint}};
    request.basic_user = options_.client_id;
    request.basic_password = &options_.client_secret;
    const HttpResult answer = http_.send(request);
    if (answer.transport_ok && (answer.status == 401 || answer.status == 403)) {
        // The endpoint judged our client, not the token: a configuration problem, not a refusal.
        VerifyResult unusable;
        unusable.detail = "introspection endpoint refused client_id " + options_.client_id + " (HTTP " +
                          std::to_string(answer.status) + "); check client_id and client_secret";
        return unusable;
    }
    VerifyResult result = read_json_answer(answer, "introspection endpoint");
    if (result.status != VerifyStatus::Valid) {
        return result;
    }
    const auto active = result.claims.find("active");
    if (active == result.claims.end() || !active->is_boolean()) {
        result.status = VerifyStatus::Unavailable;
        result.detail = "introspection answer has no boolean 'active' member";
        return result;
    }
    if (!active->get<bool>()) {
        result.status = VerifyStatus::Invalid;
        result.detail = "introspection says the token is not active (expired, revoked or unknown)";
        return result;
    }
    result.expires_at = integer_member(result.claims, "exp");
    return result;
}

} // namespace pam_oauth2
