#include "http_trace.hpp"

#include <chrono>

namespace pam_oauth2 {

HttpResult send_traced(HttpClient& client, const HttpRequest& request, const Logger& logger)
{
    if (logger.trace() == nullptr) {
        return client.send(request);
    }
    const auto started = std::chrono::steady_clock::now();
    HttpResult result = client.send(request);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    logger.step("http", [&] {
        nlohmann::json step{{"request", request.form_fields.empty() ? "GET" : "POST"},
                            {"url", request.url},
                            {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()}};
        if (!result.transport_ok) {
            step["error"] = result.transport_error;
            return step;
        }
        step["status"] = result.status;
        step["bytes"] = result.body.size();
        if (!result.cache_control.empty()) {
            step["cache_control"] = result.cache_control;
        }
        if (result.date != 0) {
            step["date"] = result.date;
        }
        return step;
    });
    return result;
}

} // namespace pam_oauth2
