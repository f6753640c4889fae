#include "provider_gate.hpp"

#include "daemon_config.hpp"
#include "url_policy.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace pam_oauth2 {

namespace {

HttpResult failed(std::string why)
{
    HttpResult result;
    result.transport_error = std::move(why);
    return result;
}

} // namespace

class ProviderGate::GatedClient final : public HttpClient {
public:
    GatedClient(ProviderGate& gate, HttpSettings settings, Deadline deadline, long max_waiting, std::atomic<bool>* sent)
        : gate_(gate), settings_(std::move(settings)), deadline_(deadline), max_waiting_(max_waiting), sent_(sent)
    {
    }

    HttpResult send(const HttpRequest& request) override
    {
        const auto target = url_host(request.url);
        std::unique_lock<std::mutex> lock(gate_.mutex_);
        if (!target || !host_allowed(gate_.allow_hosts_, request.url)) {
            HttpResult refused = failed("host " + (target ? target->host : std::string("(unparsable)")) +
                                        " is not in pam_oauth2d's allow_hosts");
            refused.refused_by_policy = true; // a policy refusal, never an outage
            return refused;
        }
        const std::string& host = target->host;
        const ProviderBreaker::Pass pass = gate_.breaker_.admit(host);
        if (!pass.go) {
            lock.unlock();
            gate_.metrics_.provider_fast_failed(host, "breaker");
            return failed(pass.refusal);
        }
        if (auto refused = take_slot(lock, host)) {
            lock.unlock();
            gate_.breaker_.record(host, pass, ProviderBreaker::Result::NotSent);
            return std::move(*refused);
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
        lock.unlock();
        if (sent_ != nullptr) {
            sent_->store(true);
        }
        return send_in_slot(request, host, pass, std::max<long>(left.count(), 1)); // 0 would mean no limit to curl
    }

private:
    // Waits (the gate's lock held) for a slot on `host` and takes it; the failure when the queue is
    // full, no slot came in time, or no time is left.
    std::optional<HttpResult> take_slot(std::unique_lock<std::mutex>& lock, const std::string& host)
    {
        const auto has_slot = [&] { return gate_.busy_[host] < gate_.max_per_host_; };
        if (!has_slot() && gate_.waiting_[host] >= max_waiting_) {
            gate_.metrics_.provider_fast_failed(host, "queue");
            return failed(std::to_string(gate_.waiting_[host]) + " logins were already waiting for " + host +
                          " (max_provider_requests=" + std::to_string(gate_.max_per_host_) +
                          ", max_provider_waiting=" + std::to_string(max_waiting_) + ")");
        }
        const auto deadline =
            std::min(deadline_, std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.timeout_ms));
        ++gate_.waiting_[host];
        const bool got = gate_.freed_.wait_until(lock, deadline, has_slot);
        if (--gate_.waiting_[host] == 0) {
            gate_.waiting_.erase(host);
        }
        if (!got) {
            return failed("max_provider_requests requests to " + host + " were already in flight");
        }
        if (deadline_ <= std::chrono::steady_clock::now()) {
            return failed("no time left within timeout (" + std::to_string(settings_.timeout_ms) + " ms)");
        }
        ++gate_.busy_[host];
        return std::nullopt;
    }

    // The request itself, in the slot taken for `host`, given at most `left_ms`.
    HttpResult send_in_slot(const HttpRequest& request, const std::string& host, const ProviderBreaker::Pass& pass,
                            long left_ms)
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
            gate_.breaker_.record(host, pass, ProviderBreaker::Result::NotSent);
            throw;
        }
        release(host);
        gate_.breaker_.record(
            host, pass, counts_as_outage(result) ? ProviderBreaker::Result::Outage : ProviderBreaker::Result::Answered);
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
        gate_.metrics_.provider_request(host, result.transport_ok, took.count());
        gate_.metrics_.provider_breaker(host, static_cast<int>(gate_.breaker_.state(host)));
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
    long max_waiting_;
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

HttpClientFactory ProviderGate::factory(Deadline deadline, long max_waiting, std::atomic<bool>* sent)
{
    return [this, deadline, max_waiting, sent](const HttpSettings& settings) {
        return std::make_unique<GatedClient>(*this, settings, deadline, max_waiting, sent);
    };
}

} // namespace pam_oauth2
