#include "provider_gate.hpp"

#include "daemon_config.hpp"
#include "url_policy.hpp"

#include <chrono>

namespace pam_oauth2 {

class ProviderGate::GatedClient final : public HttpClient {
public:
    GatedClient(ProviderGate& gate, const HttpSettings& settings)
        : gate_(gate), timeout_(settings.timeout_ms), inner_(make_curl_http_client(settings, &gate.connections_))
    {
    }

    HttpResult send(const HttpRequest& request) override
    {
        HttpResult refused;
        const auto target = url_host(request.url);
        std::unique_lock<std::mutex> lock(gate_.mutex_);
        if (!target || !host_allowed(gate_.allow_hosts_, request.url)) {
            refused.transport_error = "host " + (target ? target->host : std::string("(unparsable)")) +
                                      " is not in pam_oauth2d's allow_hosts";
            return refused;
        }
        const std::string& host = target->host;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_);
        if (!gate_.freed_.wait_until(lock, deadline, [&] { return gate_.busy_[host] < gate_.max_per_host_; })) {
            refused.transport_error = "max_provider_requests requests to " + host + " were already in flight";
            return refused;
        }
        ++gate_.busy_[host];
        lock.unlock();
        const auto started = std::chrono::steady_clock::now();
        HttpResult result;
        try {
            result = inner_->send(request);
        } catch (...) {
            release(host);
            throw;
        }
        release(host);
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
        gate_.metrics_.provider_request(host, result.transport_ok, took.count());
        return result;
    }

private:
    void release(const std::string& host)
    {
        {
            const std::lock_guard<std::mutex> lock(gate_.mutex_);
            if (--gate_.busy_[host] == 0) {
                gate_.busy_.erase(host);
            }
        }
        gate_.freed_.notify_all();
    }

    ProviderGate& gate_;
    long timeout_;
    std::unique_ptr<HttpClient> inner_;
};

void ProviderGate::configure(std::vector<std::string> allow_hosts, long max_per_host)
{
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        allow_hosts_ = std::move(allow_hosts);
        max_per_host_ = max_per_host;
    }
    freed_.notify_all();
}

HttpClientFactory ProviderGate::factory()
{
    return [this](const HttpSettings& settings) { return std::make_unique<GatedClient>(*this, settings); };
}

} // namespace pam_oauth2
