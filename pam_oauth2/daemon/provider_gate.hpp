#pragma once

#include "curl_http_client.hpp"
#include "http_client.hpp"
#include "metrics.hpp"
#include "provider_breaker.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace pam_oauth2 {

// Every request pam_oauth2d sends to an identity provider passes here: its host must be in
// allow_hosts (a client's module arguments cannot send the daemon anywhere else, discovered
// jwks_uri included), at most max_provider_requests run at once per host (a login waits for a slot
// no longer than its timeout, and at most max_provider_waiting logins wait per host: past that a login
// fails at once), a host that keeps failing is skipped for a cool-off (ProviderBreaker), each request
// is counted, and none outlives the login's deadline (the login's whole answer is bounded by its
// timeout, however many requests it needs). So a hung provider holds at most max_provider_requests +
// max_provider_waiting serving threads, and only until its breaker opens. Connections, TLS sessions
// and DNS answers are shared by all of them and stay warm between logins.
class ProviderGate {
public:
    explicit ProviderGate(Metrics& metrics, ProviderBreaker::Clock now = std::chrono::steady_clock::now)
        : breaker_(std::move(now)), metrics_(metrics)
    {
    }

    /// Applies (re)loaded limits; requests already running keep their slot.
    void configure(std::vector<std::string> allow_hosts, long max_per_host);
    using Deadline = std::chrono::steady_clock::time_point;
    /// Clients for one login's decision: waiting for a slot and each request end by `deadline` (a
    /// request with no time left fails at once); a request that would be one more than `max_waiting`
    /// logins waiting for a slot on its host fails at once. `sent`, if given, is set when a request is
    /// sent.
    HttpClientFactory factory(Deadline deadline, long max_waiting, std::atomic<bool>* sent = nullptr);

private:
    class GatedClient;
    friend class GatedClient;

    mutable std::mutex mutex_;
    std::condition_variable freed_;
    std::map<std::string, long> busy_;
    std::map<std::string, long> waiting_;
    std::vector<std::string> allow_hosts_;
    long max_per_host_ = 8;
    ProviderBreaker breaker_;
    SharedConnections connections_;
    Metrics& metrics_;
};

} // namespace pam_oauth2
