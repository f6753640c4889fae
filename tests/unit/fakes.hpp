#pragma once

#include "http_client.hpp"
#include "presented_token.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace pam_oauth2::testing {

// A scripted HttpClient: records what was asked and answers from a function.
class FakeHttpClient final : public HttpClient {
public:
    struct Seen {
        std::string url;
        std::string bearer;
        std::vector<std::pair<std::string, std::string>> form;
        std::string basic_user;
        std::string basic_password;
    };

    using Script = std::function<HttpResult(const Seen&)>;
    explicit FakeHttpClient(Script script) : script_(std::move(script)) {}

    HttpResult send(const HttpRequest& request) override
    {
        Seen seen;
        seen.url = request.url;
        seen.bearer = request.bearer_token ? std::string(request.bearer_token->view()) : "";
        for (const auto& [name, value] : request.form_fields) {
            seen.form.emplace_back(name, value ? std::string(value->view()) : "");
        }
        seen.basic_user = request.basic_user;
        seen.basic_password = request.basic_password ? std::string(request.basic_password->view()) : "";
        requests.push_back(seen);
        return script_(seen);
    }

    std::vector<Seen> requests;

private:
    Script script_;
};

// A token as verifiers see it, owning its bytes, for calls such as verifier.verify(OwnedToken("tok")).
struct OwnedToken {
    explicit OwnedToken(std::string_view text) : secret(text) {}
    operator const PresentedToken&() const { return presented; } // NOLINT(google-explicit-constructor)
    SecureString secret;
    PresentedToken presented{secret};
};

inline HttpResult answer(long status, std::string_view body)
{
    HttpResult result;
    result.transport_ok = true;
    result.status = status;
    result.body = SecureString(body);
    return result;
}

inline HttpResult transport_failure(std::string error)
{
    HttpResult result;
    result.transport_error = std::move(error);
    return result;
}

} // namespace pam_oauth2::testing
