#include "http_trace.hpp"

#include "login_observer.hpp"

#include <chrono>

namespace pam_oauth2 {

HttpResult send_traced(HttpClient& client, const HttpRequest& request, const Logger& logger)
{
    LoginObserver* observer = logger.observer();
    if (observer == nullptr) {
        return client.send(request);
    }
    const auto started = std::chrono::steady_clock::now();
    HttpResult result = client.send(request);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    observer->http(request, result, std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
    return result;
}

} // namespace pam_oauth2
