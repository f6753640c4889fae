#pragma once

#include "http_client.hpp"

#include <string_view>

namespace pam_oauth2::fuzzing {

// Answers every request with one status and body; status 0 is a transport failure.
class ScriptedHttp final : public HttpClient {
public:
    ScriptedHttp(long status, std::string_view body) : status_(status), body_(body) {}
    HttpResult send(const HttpRequest&) override
    {
        HttpResult result;
        result.transport_ok = status_ != 0;
        result.transport_error = status_ == 0 ? "scripted transport failure" : "";
        result.status = status_;
        result.body = SecureString(body_);
        return result;
    }

private:
    long status_;
    std::string_view body_;
};

} // namespace pam_oauth2::fuzzing
