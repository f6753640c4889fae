#include "metrics_endpoint.hpp"

#include "http_listener.hpp"

namespace pam_oauth2 {
namespace {

// The request bytes kept at most: the answer does not depend on the request.
constexpr std::size_t request_bytes = 4096;

std::string response_of(const Metrics& metrics)
{
    const std::string body = metrics.text();
    return "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

} // namespace

std::variant<std::unique_ptr<MetricsEndpoint>, std::string> MetricsEndpoint::open(const std::string& where,
                                                                                  const Metrics& metrics)
{
    auto bound = bind_http_listener(where, "metrics");
    if (auto* problem = std::get_if<std::string>(&bound)) {
        return *problem;
    }
    HttpHandler handler;
    handler.max_request_bytes = request_bytes;
    handler.complete = [](const std::string& received) { return received.find("\r\n\r\n") != std::string::npos; };
    // A scraper that sends nothing within the wait is answered anyway, as before.
    handler.answer = [&metrics](const std::string&, bool) { return response_of(metrics); };
    serve_http_listener(std::get<int>(bound), std::move(handler));
    return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint());
}

} // namespace pam_oauth2
