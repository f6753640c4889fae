#include "metrics.hpp"

#include <cstdio>

namespace pam_oauth2 {

void Metrics::login(const std::string& result, const std::string& method)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    ++logins_[{result, method.empty() ? "none" : method}];
}

void Metrics::provider_request(const std::string& host, bool answered, double seconds)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    Latency& latency = providers_[host];
    ++latency.requests;
    latency.failures += answered ? 0 : 1;
    latency.seconds += seconds;
}

std::string Metrics::text() const
{
    std::string out;
    const auto counter = [&](const char* name, const char* help, unsigned long long value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
               std::to_string(value) + "\n";
    };
    const auto gauge = [&](const char* name, const char* help, long value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " +
               std::to_string(value) + "\n";
    };
    const std::lock_guard<std::mutex> lock(mutex_);
    out += "# HELP pam_oauth2d_logins_total Logins decided, by result and method.\n"
           "# TYPE pam_oauth2d_logins_total counter\n";
    for (const auto& [key, count] : logins_) {
        out += "pam_oauth2d_logins_total{result=\"" + key.first + "\",method=\"" + key.second + "\"} " +
               std::to_string(count) + "\n";
    }
    out += "# HELP pam_oauth2d_provider_requests_total Requests to identity providers, by host.\n"
           "# TYPE pam_oauth2d_provider_requests_total counter\n";
    for (const auto& [host, latency] : providers_) {
        out += "pam_oauth2d_provider_requests_total{host=\"" + host + "\"} " + std::to_string(latency.requests) + "\n";
    }
    out += "# HELP pam_oauth2d_provider_failures_total Requests that got no HTTP answer, by host.\n"
           "# TYPE pam_oauth2d_provider_failures_total counter\n";
    for (const auto& [host, latency] : providers_) {
        out += "pam_oauth2d_provider_failures_total{host=\"" + host + "\"} " + std::to_string(latency.failures) + "\n";
    }
    out += "# HELP pam_oauth2d_provider_request_seconds_sum Time spent in requests to identity providers.\n"
           "# TYPE pam_oauth2d_provider_request_seconds_sum counter\n";
    for (const auto& [host, latency] : providers_) {
        char seconds[64];
        static_cast<void>(std::snprintf(seconds, sizeof seconds, "%.6f", latency.seconds));
        out += "pam_oauth2d_provider_request_seconds_sum{host=\"" + host + "\"} " + seconds + "\n";
    }
    counter("pam_oauth2d_refusals_remembered_total", "Logins answered from the short negative cache.",
            remembered_.load());
    counter("pam_oauth2d_answered_from_memory_total",
            "Logins decided without the identity provider (JWKS, verdict or refusal from memory).",
            from_memory_.load());
    counter("pam_oauth2d_coalesced_total", "Logins that waited for a verification already in flight.",
            coalesced_.load());
    counter("pam_oauth2d_peers_refused_total", "Connections from processes not in allow_users.", peers_refused_.load());
    gauge("pam_oauth2d_connections", "Connections being served now.", connections.load());
    gauge("pam_oauth2d_verifications_in_flight", "Verifications running now.", in_flight.load());
    return out;
}

} // namespace pam_oauth2
