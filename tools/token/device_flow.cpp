#include "device_flow.hpp"

#include "json.hpp"
#include "text.hpp"

#include <algorithm>

namespace pam_oauth2::token {
namespace {

constexpr long long default_interval = 5; // RFC 8628 section 3.2
constexpr long long slow_down_step = 5;   // RFC 8628 section 3.5
// A provider's interval beyond this is an error of its own, not a reason to wait for an hour.
constexpr long long longest_interval = 60;

GrantResult failed(GrantStatus status, std::string problem)
{
    GrantResult result;
    result.status = status;
    result.problem = std::move(problem);
    return result;
}

// The device authorization request (section 3.1), or the grant result that ends the flow.
std::variant<std::pair<DeviceSignIn, SecureString>, GrantResult>
start(HttpClient& http, const ProviderEndpoints& endpoints, const ClientRequest& client)
{
    std::deque<SecureString> keep;
    std::vector<std::pair<std::string, const SecureString*>> fields;
    add_client_fields(fields, client, keep, true);
    if (!client.login_hint.empty()) {
        keep.emplace_back(client.login_hint); // which of the person's accounts (--account)
        fields.emplace_back("login_hint", &keep.back());
    }
    HttpRequest request;
    request.url = endpoints.device_authorization;
    request.form_fields = std::move(fields);
    if (client.client_secret != nullptr) {
        request.basic_user = client.client_id;
        request.basic_password = client.client_secret;
    }
    const HttpResult answer = http.send(request);
    const std::string where = "device authorization endpoint " + endpoints.device_authorization;
    if (!answer.transport_ok) {
        return failed(GrantStatus::Unavailable, where + " unreachable: " + answer.transport_error);
    }
    const auto document = parse_json_object(answer.body.view());
    if (answer.status != 200) {
        const std::string error = document ? string_member(*document, "error").value_or("") : "";
        const std::string description = document ? string_member(*document, "error_description").value_or("") : "";
        const std::string said = (error.empty() ? "HTTP " + std::to_string(answer.status) : log_safe(error)) +
                                 (description.empty() ? "" : ": " + log_safe(description, 200));
        return failed(answer.status >= 500 || error.empty() ? GrantStatus::Unavailable : GrantStatus::BadClient,
                      where + " refused the request: " + said);
    }
    const nlohmann::json answered = document ? *document : nlohmann::json::object();
    const std::string device_code = string_member(answered, "device_code").value_or("");
    const std::string user_code = string_member(answered, "user_code").value_or("");
    // "verification_url" is what some providers (Google) send instead of the RFC's name.
    const std::string uri =
        string_member(answered, "verification_uri").value_or(string_member(answered, "verification_url").value_or(""));
    const long long expires_in = integer_member(answered, "expires_in").value_or(0);
    if (device_code.empty() || user_code.empty() || uri.empty() || expires_in <= 0) {
        return failed(GrantStatus::Unavailable,
                      where + " answered without device_code, user_code, verification_uri and expires_in");
    }
    DeviceSignIn sign_in{
        user_code, uri, string_member(answered, "verification_uri_complete").value_or(""), expires_in,
        std::clamp(integer_member(answered, "interval").value_or(default_interval), 1LL, longest_interval)};
    return std::make_pair(std::move(sign_in), SecureString(device_code));
}

} // namespace

GrantResult device_sign_in(HttpClient& http, const ProviderEndpoints& endpoints, const ClientRequest& client,
                           const DeviceFlowHooks& hooks)
{
    if (endpoints.device_authorization.empty()) {
        return failed(GrantStatus::BadClient, "the provider " + endpoints.issuer +
                                                  " offers no device authorization endpoint (its discovery "
                                                  "document names no device_authorization_endpoint)");
    }
    auto started = start(http, endpoints, client);
    if (auto* ended = std::get_if<GrantResult>(&started)) {
        return std::move(*ended);
    }
    auto& [sign_in, device_code] = std::get<std::pair<DeviceSignIn, SecureString>>(started);
    hooks.show(sign_in);
    const long long began = hooks.now();
    const long long deadline = began + sign_in.expires_in;
    long long interval = sign_in.interval;
    const SecureString grant_type("urn:ietf:params:oauth:grant-type:device_code");
    while (true) {
        hooks.sleep(interval);
        const long long now = hooks.now();
        if (now >= deadline) {
            return failed(GrantStatus::Expired, "the code " + sign_in.user_code +
                                                    " expired before the sign-in "
                                                    "was approved");
        }
        std::deque<SecureString> keep;
        std::vector<std::pair<std::string, const SecureString*>> fields{{"grant_type", &grant_type},
                                                                        {"device_code", &device_code}};
        add_client_fields(fields, client, keep, false);
        GrantResult result = request_grant(http, endpoints.token, client, std::move(fields));
        switch (result.status) {
        case GrantStatus::Pending: break;
        case GrantStatus::SlowDown: interval = std::min(interval + slow_down_step, longest_interval); break;
        default: return result;
        }
        hooks.wait(now - began, deadline - now);
    }
}

} // namespace pam_oauth2::token
