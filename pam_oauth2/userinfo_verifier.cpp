#include "endpoint_verifier.hpp"

#include "idp_answer.hpp"

namespace pam_oauth2 {

VerifyResult UserinfoVerifier::verify(const SecureString& token)
{
    HttpRequest request;
    request.url = options_.userinfo_url;
    request.bearer_token = &token;
    const HttpResult answer = http_.send(request);
    if (answer.transport_ok && (answer.status == 401 || answer.status == 403)) {
        VerifyResult refused;
        refused.status = VerifyStatus::Invalid;
        refused.detail = "userinfo endpoint refused the token (HTTP " + std::to_string(answer.status) + ")";
        return refused;
    }
    return read_json_answer(answer, "userinfo endpoint");
}

} // namespace pam_oauth2
