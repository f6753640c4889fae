#include "token_endpoint.hpp"

#include "json.hpp"
#include "provider_json.hpp"
#include "text.hpp"
#include "url_policy.hpp"

#include <deque>

namespace pam_oauth2::token {
namespace {

GrantStatus status_of(const std::string& error)
{
    if (error == "authorization_pending") {
        return GrantStatus::Pending;
    }
    if (error == "slow_down") {
        return GrantStatus::SlowDown;
    }
    if (error == "access_denied") {
        return GrantStatus::Denied;
    }
    if (error == "expired_token") {
        return GrantStatus::Expired;
    }
    if (error == "invalid_grant") {
        return GrantStatus::InvalidGrant;
    }
    if (error == "invalid_client" || error == "unauthorized_client" || error == "unsupported_grant_type" ||
        error == "invalid_scope" || error == "invalid_target" || error == "invalid_request") {
        return GrantStatus::BadClient;
    }
    return GrantStatus::Unavailable;
}

// A boolean member: true only when present and true (anything else is not an advertisement).
bool flag(const nlohmann::json& document, const char* key)
{
    const auto found = document.find(key);
    return found != document.end() && found->is_boolean() && found->get<bool>();
}

} // namespace

std::variant<ProviderEndpoints, std::string> discover(HttpClient& http, const std::string& issuer, bool allow_http)
{
    if (auto problem = check_endpoint_url(issuer, allow_http)) {
        return "issuer " + *problem;
    }
    std::string location = issuer;
    while (!location.empty() && location.back() == '/') {
        location.pop_back();
    }
    location += "/.well-known/openid-configuration";
    HttpRequest request;
    request.url = location;
    const auto read = read_provider_json(http.send(request), "discovery document " + location);
    if (const auto* problem = std::get_if<std::string>(&read)) {
        return *problem;
    }
    const auto& document = std::get<nlohmann::json>(read);
    if (string_member(document, "issuer") != issuer) {
        return "discovery document " + location + " does not name issuer " + issuer;
    }
    ProviderEndpoints endpoints{issuer,
                                string_member(document, "token_endpoint").value_or(""),
                                string_member(document, "device_authorization_endpoint").value_or(""),
                                string_member(document, "revocation_endpoint").value_or(""),
                                string_member(document, "authorization_endpoint").value_or(""),
                                flag(document, "authorization_response_iss_parameter_supported")};
    if (endpoints.token.empty()) {
        return "discovery document " + location + " has no token_endpoint";
    }
    for (const auto* url :
         {&endpoints.token, &endpoints.device_authorization, &endpoints.revocation, &endpoints.authorization}) {
        if (!url->empty()) {
            if (auto problem = check_endpoint_url(*url, allow_http)) {
                return "discovery document " + location + ": endpoint " + *problem;
            }
        }
    }
    return endpoints;
}

void add_client_fields(std::vector<std::pair<std::string, const SecureString*>>& fields, const ClientRequest& client,
                       std::deque<SecureString>& keep, bool with_scope)
{
    // The form references its values: they live in `keep` (a deque: adding never moves them).
    const auto add = [&](const char* name, const std::string& value) {
        if (!value.empty()) {
            keep.emplace_back(value);
            fields.emplace_back(name, &keep.back());
        }
    };
    if (client.client_secret == nullptr) {
        add("client_id", client.client_id); // a public client names itself in the form (RFC 6749 2.3)
    }
    if (with_scope) {
        add("scope", client.scope);
    }
    add("audience", client.audience);
    add("resource", client.resource);
}

GrantResult request_grant(HttpClient& http, const std::string& token_url, const ClientRequest& client,
                          std::vector<std::pair<std::string, const SecureString*>> fields)
{
    HttpRequest request;
    request.url = token_url;
    request.form_fields = std::move(fields);
    if (client.client_secret != nullptr) {
        request.basic_user = client.client_id;
        request.basic_password = client.client_secret;
    }
    const HttpResult answer = http.send(request);
    GrantResult result;
    if (!answer.transport_ok) {
        result.problem = "token endpoint " + token_url + " unreachable: " + answer.transport_error;
        return result;
    }
    const auto document = parse_json_object(answer.body.view());
    if (!document) {
        result.problem = "token endpoint " + token_url + " answered HTTP " + std::to_string(answer.status) +
                         " without a JSON object";
        return result;
    }
    if (answer.status == 200) {
        const auto access = string_member(*document, "access_token");
        if (!access || access->empty()) {
            result.problem = "token endpoint " + token_url + " answered without an access_token";
            return result;
        }
        result.status = GrantStatus::Issued;
        result.access_token = SecureString(*access);
        if (const auto refreshed = string_member(*document, "refresh_token")) {
            result.refresh_token = SecureString(*refreshed);
        }
        if (const auto id_token = string_member(*document, "id_token")) {
            result.id_token = SecureString(*id_token);
        }
        result.expires_in = integer_member(*document, "expires_in");
        if (const auto id_token = string_member(*document, "id_token")) {
            result.id_token = SecureString(*id_token);
        }
        return result;
    }
    const std::string error = string_member(*document, "error").value_or("");
    const std::string description = string_member(*document, "error_description").value_or("");
    result.status = answer.status >= 500 ? GrantStatus::Unavailable : status_of(error);
    result.problem = (error.empty() ? "HTTP " + std::to_string(answer.status) : log_safe(error)) +
                     (description.empty() ? "" : ": " + log_safe(description, 200));
    return result;
}

GrantResult refresh(HttpClient& http, const ProviderEndpoints& endpoints, const ClientRequest& client,
                    const SecureString& refresh_token)
{
    std::deque<SecureString> keep;
    keep.emplace_back("refresh_token");
    std::vector<std::pair<std::string, const SecureString*>> fields{{"grant_type", &keep.front()},
                                                                    {"refresh_token", &refresh_token}};
    // The scope of the first sign-in applies; asking again could only narrow it.
    add_client_fields(fields, client, keep, false);
    return request_grant(http, endpoints.token, client, std::move(fields));
}

} // namespace pam_oauth2::token
