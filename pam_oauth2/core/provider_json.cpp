#include "provider_json.hpp"

#include "json.hpp"

namespace pam_oauth2 {

std::variant<nlohmann::json, std::string> read_provider_json(const HttpResult& answer, const std::string& endpoint)
{
    if (!answer.transport_ok) {
        return endpoint + " unreachable: " + answer.transport_error;
    }
    if (answer.status >= 300 && answer.status < 400) {
        // Redirects are never followed: an endpoint that moves is a configuration to fix, and following
        // would send the token to wherever the Location header points.
        return endpoint + " answered HTTP " + std::to_string(answer.status) + " (redirect not followed)";
    }
    if (answer.status != 200) {
        return endpoint + " answered HTTP " + std::to_string(answer.status);
    }
    auto object = parse_json_object(answer.body.view());
    if (!object) {
        return endpoint + " answer is not a JSON object (" + std::to_string(answer.body.size()) + " bytes)";
    }
    return std::move(*object);
}

} // namespace pam_oauth2
