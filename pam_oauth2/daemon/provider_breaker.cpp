#include "provider_breaker.hpp"

#include <algorithm>
#include <utility>

namespace pam_oauth2 {

bool counts_as_outage(const HttpResult& result)
{
    return !result.transport_ok;
}

ProviderBreaker::ProviderBreaker(Clock now, Limits limits) : now_(std::move(now)), limits_(limits) {}

ProviderBreaker::Pass ProviderBreaker::admit(const std::string& host)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = hosts_.find(host);
    if (found == hosts_.end() || !found->second.open_until) {
        return {};
    }
    Health& health = found->second;
    const auto now = now_();
    if (now >= *health.open_until && !health.probing) {
        health.probing = true;
        return {true, true, {}};
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*health.open_until - now).count();
    Pass refused;
    refused.go = false;
    refused.refusal = "provider " + host + " is failing (" + std::to_string(health.failures) +
                      " requests in a row got no answer); " +
                      (health.probing ? std::string("one request is probing it now")
                                      : "retrying after " + std::to_string(std::max<long long>(wait, 0)) + " ms");
    return refused;
}

void ProviderBreaker::open(Health& health, std::chrono::milliseconds cooloff)
{
    health.cooloff = std::min(cooloff, limits_.max_cooloff);
    health.open_until = now_() + health.cooloff;
}

void ProviderBreaker::record(const std::string& host, const Pass& pass, Result result)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    if (result == Result::Answered) {
        hosts_.erase(host); // any answer, the probe's or a late one's, means the host is back
        return;
    }
    const auto found = hosts_.find(host);
    if (result == Result::NotSent) {
        if (pass.probe && found != hosts_.end()) {
            found->second.probing = false; // the next request probes instead
        }
        return;
    }
    Health& health = hosts_[host];
    ++health.failures;
    if (pass.probe) {
        health.probing = false;
        open(health, health.cooloff * 2);
    } else if (!health.open_until && health.failures >= limits_.failures_to_open) {
        open(health, limits_.first_cooloff);
    }
}

ProviderBreaker::State ProviderBreaker::state(const std::string& host) const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = hosts_.find(host);
    if (found == hosts_.end() || !found->second.open_until) {
        return State::Closed;
    }
    return found->second.probing ? State::Probing : State::Open;
}

} // namespace pam_oauth2
