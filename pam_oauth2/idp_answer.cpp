#include "idp_answer.hpp"

#include "json.hpp"

namespace pam_oauth2 {

VerifyResult read_json_answer(const HttpResult& answer, const std::string& endpoint)
{
    VerifyResult result;
    result.status = VerifyStatus::Unavailable;
    if (!answer.transport_ok) {
        result.detail = endpoint + " unreachable: " + answer.transport_error;
        return result;
    }
    if (answer.status >= 300 && answer.status < 400) {
        // Redirects are never followed: an endpoint that moves is a configuration to fix, and following
        // would send the token to wherever the Location header points.
        result.detail = endpoint + " answered HTTP " + std::to_string(answer.status) + " (redirect not followed)";
        return result;
    }
    if (answer.status != 200) {
        result.detail = endpoint + " answered HTTP " + std::to_string(answer.status);
        return result;
    }
    auto object = parse_json_object(answer.body.view());
    if (!object) {
        result.detail = endpoint + " answer is not a JSON object (" + std::to_string(answer.body.size()) + " bytes)";
        return result;
    }
    result.status = VerifyStatus::Valid;
    result.claims = std::move(*object);
    return result;
}

} // namespace pam_oauth2
