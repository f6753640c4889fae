#include "provider_gate.hpp"

#include "daemon_config.hpp"
#include "url_policy.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace pam_oauth2 {

class ProviderGate::GatedClient final : public HttpClient {
public:
    GatedClient(ProviderGate& gate, HttpSettings settings, Deadline deadline, std::atomic<bool>* sent)
        : gate_(gate), settings_(std::move(settings)), deadline_(deadline), sent_(sent)
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
            refused.refused_by_policy = true;
            return refused;
        }
        const std::string& host = target->host;
        const auto deadline =
            std::min(deadline_, std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.timeout_ms));
        if (!gate_.freed_.wait_until(lock, deadline, [&] { return gate_.busy_[host] < gate_.max_per_host_; })) {
            refused.transport_error = "max_provider_requests requests to " + host + " were already in flight";
            return refused;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            refused.transport_error = "no time left within timeout (" + std::to_string(settings_.timeout_ms) + " ms)";
            return refused;
        }
        ++gate_.busy_[host];
        lock.unlock();
        if (sent_ != nullptr) {
            sent_->store(true);
        }
        return send_in_slot(request, host, left.count());
    }

private:
    // The request itself, in the slot taken for `host`, given at most `left_ms`.
    HttpResult send_in_slot(const HttpRequest& request, const std::string& host, long left_ms)
    {
        HttpSettings bounded = settings_;
        bounded.timeout_ms = std::min(bounded.timeout_ms, left_ms);
        bounded.connect_timeout_ms = std::min(bounded.connect_timeout_ms, left_ms);
        const auto started = std::chrono::steady_clock::now();
        HttpResult result;
        try {
            result = make_curl_http_client(bounded, &gate_.connections_)->send(request);
        } catch (...) {
            release(host);
            throw;
        }
        release(host);
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
        gate_.metrics_.provider_request(host, result.transport_ok, took.count());
        return result;
    }

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
    HttpSettings settings_;
    Deadline deadline_;
    std::atomic<bool>* sent_;
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

HttpClientFactory ProviderGate::factory(Deadline deadline, std::atomic<bool>* sent)
{
    return [this, deadline, sent](const HttpSettings& settings) {
        return std::make_unique<GatedClient>(*this, settings, deadline, sent);
    };
}

} // namespace pam_oauth2
