#pragma once

#include "http_client.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace pam_oauth2 {

/// The one place that says which answers count against a provider host's health: only a request
/// that got no HTTP answer at all (connect failure, reset, timeout). An HTTP status, 4xx or 5xx, is an
/// answer; the gate's own refusals (allow_hosts, a full queue, no time left) never reach here.
bool counts_as_outage(const HttpResult& result);

// When a host counts as down and for how long (pam_oauth2d uses these defaults; tests shorten them).
struct BreakerLimits {
    int failures_to_open = 5;                      // outages in a row
    std::chrono::milliseconds first_cooloff{2000}; // the first time it opens
    std::chrono::milliseconds max_cooloff{60000};  // doubling after each failed probe, up to this
};

// A circuit breaker per identity provider host. After `failures_to_open` outages in a row the host
// is down: requests to it fail at once for a cool-off (doubling after each failed probe, up to a
// cap), so a hung provider costs each login microseconds instead of its whole timeout. After the
// cool-off one request at a time (the probe) goes through; its answer closes the breaker, its
// failure opens it again for longer. The clock is injected so tests need not sleep.
class ProviderBreaker {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    using Limits = BreakerLimits;
    enum class State { Closed = 0, Open = 1, Probing = 2 };
    /// What admit() said: go (maybe as the probe), or the reason the request fails at once.
    struct Pass {
        bool go = true;
        bool probe = false;
        std::string refusal;
    };
    enum class Result { Answered, Outage, NotSent };

    explicit ProviderBreaker(Clock now = std::chrono::steady_clock::now, Limits limits = {});

    /// Whether a request to `host` may be sent now.
    Pass admit(const std::string& host);
    /// What became of a request admit() let go (NotSent: it never reached the host).
    void record(const std::string& host, const Pass& pass, Result result);
    [[nodiscard]] State state(const std::string& host) const;

private:
    struct Health {
        int failures = 0; // outages in a row
        std::optional<std::chrono::steady_clock::time_point> open_until;
        std::chrono::milliseconds cooloff{0};
        bool probing = false;
    };
    void open(Health& health, std::chrono::milliseconds cooloff);

    Clock now_;
    Limits limits_;
    mutable std::mutex mutex_;
    std::map<std::string, Health> hosts_;
};

} // namespace pam_oauth2
