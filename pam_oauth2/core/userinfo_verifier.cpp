#include "userinfo_verifier.hpp"
#include "settings.hpp"

#include "provider_json.hpp"

namespace pam_oauth2 {

VerifyResult UserinfoVerifier::verify(const PresentedToken& token)
{
    HttpRequest request;
    request.url = endpoints_.userinfo_url;
    request.bearer_token = &token.secret();
    const HttpResult answer = http_.send(request);
    if (answer.transport_ok && (answer.status == 401 || answer.status == 403)) {
        return verify_result(VerifyStatus::Invalid,
                             "userinfo endpoint refused the token (HTTP " + std::to_string(answer.status) + ")");
    }
    auto object = read_provider_json(answer, "userinfo endpoint");
    if (auto* problem = std::get_if<std::string>(&object)) {
        return verify_result(VerifyStatus::Unavailable, std::move(*problem));
    }
    VerifyResult result = verify_result(VerifyStatus::Valid, "");
    result.claims = std::move(std::get<nlohmann::json>(object));
    return result;
}

} // namespace pam_oauth2
