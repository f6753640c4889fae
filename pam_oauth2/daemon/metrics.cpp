#include "metrics.hpp"

#include <cstdio>
#include <string_view>

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

void Metrics::provider_fast_failed(const std::string& host, const std::string& reason)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    ++fast_failed_[{host, reason}];
}

void Metrics::provider_breaker(const std::string& host, int state)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    breakers_[host] = state;
}

void Metrics::over_cap(const std::string& cap)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    ++over_cap_[cap];
}

// The availability series: fast failures, breaker states and over-cap refusals (mutex_ held).
std::string Metrics::availability_text() const
{
    std::string out = "# HELP pam_oauth2d_provider_fast_failed_total Requests failed at once, by host and reason "
                      "(breaker: the host is failing; queue: max_provider_waiting logins already waited).\n"
                      "# TYPE pam_oauth2d_provider_fast_failed_total counter\n";
    for (const auto& [key, count] : fast_failed_) {
        out += "pam_oauth2d_provider_fast_failed_total{host=\"" + key.first + "\",reason=\"" + key.second + "\"} " +
               std::to_string(count) + "\n";
    }
    out += "# HELP pam_oauth2d_provider_breaker_state Circuit breaker per host: 0 closed, 1 open, 2 probing.\n"
           "# TYPE pam_oauth2d_provider_breaker_state gauge\n";
    for (const auto& [host, state] : breakers_) {
        out += "pam_oauth2d_provider_breaker_state{host=\"" + host + "\"} " + std::to_string(state) + "\n";
    }
    out += "# HELP pam_oauth2d_over_cap_total Connections refused because their uid (user) or PAM service "
           "(service) already held its share of max_clients.\n"
           "# TYPE pam_oauth2d_over_cap_total counter\n";
    for (const auto& [cap, count] : over_cap_) {
        out += "pam_oauth2d_over_cap_total{cap=\"" + cap + "\"} " + std::to_string(count) + "\n";
    }
    return out;
}

void Metrics::session_ended(const std::string& reason)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    ++sessions_ended_[reason];
}

void Metrics::session_forgotten(const std::string& why)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    ++sessions_forgotten_[why];
}

// The series of ending sessions (mutex_ held).
std::string Metrics::sessions_text() const
{
    std::string out = "# HELP pam_oauth2d_sessions_tracked Sessions whose policy pam_oauth2d applies now.\n"
                      "# TYPE pam_oauth2d_sessions_tracked gauge\n"
                      "pam_oauth2d_sessions_tracked " +
                      std::to_string(sessions_tracked_.load()) + "\n";
    out += "# HELP pam_oauth2d_sessions_ended_total Sessions ended through PostgreSQL, by reason (expiry, "
           "max_age, logout, revoked).\n"
           "# TYPE pam_oauth2d_sessions_ended_total counter\n";
    for (const auto& [reason, count] : sessions_ended_) {
        out += "pam_oauth2d_sessions_ended_total{reason=\"" + reason + "\"} " + std::to_string(count) + "\n";
    }
    out += "# HELP pam_oauth2d_sessions_forgotten_total Tracked sessions dropped without ending them: the "
           "backend exited, its pid holds another process, or PostgreSQL has no matching backend.\n"
           "# TYPE pam_oauth2d_sessions_forgotten_total counter\n";
    for (const auto& [why, count] : sessions_forgotten_) {
        out += "pam_oauth2d_sessions_forgotten_total{why=\"" + why + "\"} " + std::to_string(count) + "\n";
    }
    out += "# HELP pam_oauth2d_sessions_untracked_total Logins with a policy not tracked: max_tracked_sessions "
           "were.\n"
           "# TYPE pam_oauth2d_sessions_untracked_total counter\n"
           "pam_oauth2d_sessions_untracked_total " +
           std::to_string(sessions_untracked_.load()) + "\n";
    out += "# HELP pam_oauth2d_session_termination_failures_total Attempts to end a session that failed "
           "(PostgreSQL down, the role missing or lacking the right, no conninfo file).\n"
           "# TYPE pam_oauth2d_session_termination_failures_total counter\n"
           "pam_oauth2d_session_termination_failures_total " +
           std::to_string(termination_failures_.load()) + "\n";
    out += "# HELP pam_oauth2d_sessions_rechecked_total Tokens of tracked sessions asked about again "
           "(session_recheck), whatever the answer.\n"
           "# TYPE pam_oauth2d_sessions_rechecked_total counter\n"
           "pam_oauth2d_sessions_rechecked_total " +
           std::to_string(sessions_rechecked_.load()) + "\n";
    out += "# HELP pam_oauth2d_recheck_unavailable_total Re-checks the provider did not answer (down, slow, "
           "5xx): the session was kept.\n"
           "# TYPE pam_oauth2d_recheck_unavailable_total counter\n"
           "pam_oauth2d_recheck_unavailable_total " +
           std::to_string(recheck_unavailable_.load()) + "\n";
    return out;
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
    out += availability_text();
    out += sessions_text();
    counter("pam_oauth2d_refusals_remembered_total", "Logins answered from the short negative cache.",
            remembered_.load());
    counter("pam_oauth2d_answered_from_memory_total",
            "Logins decided without the identity provider (JWKS, verdict or refusal from memory).",
            from_memory_.load());
    counter("pam_oauth2d_coalesced_total", "Logins that waited for a verification already in flight.",
            coalesced_.load());
    counter("pam_oauth2d_peers_refused_total", "Connections from processes not in allow_users.", peers_refused_.load());
    counter("pam_oauth2d_shared_cache_hits_total", "Entries found in the shared cache after a memory miss.",
            shared_hits_.load());
    counter("pam_oauth2d_shared_cache_misses_total", "Shared cache lookups that found no entry.",
            shared_misses_.load());
    counter("pam_oauth2d_shared_cache_errors_total",
            "Shared cache failures (Redis down, slow or refusing, values that did not open): each a miss.",
            shared_errors_.load());
    gauge("pam_oauth2d_shared_cache_breaker_state", "The shared cache's circuit breaker: 0 closed, 1 open, 2 probing.",
          shared_breaker_.load());
    out += logout_text();
    gauge("pam_oauth2d_connections", "Connections being served now.", connections.load());
    gauge("pam_oauth2d_verifications_in_flight", "Verifications running now.", in_flight.load());
    counter("pam_oauth2d_audit_failures_total", "Audit events that could not be written whole; the logins went on.",
            audit_failures_.load());
    out += fleet_text();
    return out;
}

void Metrics::shared_refusal(const char* what)
{
    const std::string_view word(what);
    auto& count = word == "hit"    ? shared_refusal_hits_
                  : word == "miss" ? shared_refusal_misses_
                                   : shared_refusals_written_;
    count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::shared_lease(const char* what)
{
    const std::string_view word(what);
    auto& count = word == "taken" ? lease_taken_ : word == "waited" ? lease_waited_ : lease_fell_back_;
    count.fetch_add(1, std::memory_order_relaxed);
}

// The refusals shared through the fleet's cache and the documents' refresh lease.
std::string Metrics::fleet_text() const
{
    std::string out;
    const auto counter = [&](const char* name, const char* help, const std::atomic<unsigned long long>& value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
               std::to_string(value.load(std::memory_order_relaxed)) + "\n";
    };
    counter("pam_oauth2d_shared_refusal_hits_total",
            "Logins refused from a refusal another host shared, without asking the provider.", shared_refusal_hits_);
    counter("pam_oauth2d_shared_refusal_misses_total", "Shared refusal lookups that found none (or none that opened).",
            shared_refusal_misses_);
    counter("pam_oauth2d_shared_refusals_written_total", "Refusals this host shared.", shared_refusals_written_);
    counter("pam_oauth2d_shared_lease_taken_total",
            "Document refreshes this host owned for the fleet (it took the lease and fetched).", lease_taken_);
    counter("pam_oauth2d_shared_lease_waited_total",
            "Document refreshes another host owned, its copy read from the shared cache in time.", lease_waited_);
    counter("pam_oauth2d_shared_lease_fell_back_total",
            "Document refreshes another host owned but did not share within the lease: fetched here.",
            lease_fell_back_);
    return out;
}

void Metrics::logout_refused(const std::string& reason)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    ++logouts_refused_[reason];
}

// The back-channel logout series (mutex_ held).
std::string Metrics::logout_text() const
{
    std::string out = "# HELP pam_oauth2d_logout_tokens_accepted_total Back-channel logout tokens accepted.\n"
                      "# TYPE pam_oauth2d_logout_tokens_accepted_total counter\n"
                      "pam_oauth2d_logout_tokens_accepted_total " +
                      std::to_string(logouts_accepted_.load()) + "\n";
    out += "# HELP pam_oauth2d_logout_tokens_refused_total Back-channel logout requests refused, by reason.\n"
           "# TYPE pam_oauth2d_logout_tokens_refused_total counter\n";
    for (const auto& [reason, count] : logouts_refused_) {
        out += "pam_oauth2d_logout_tokens_refused_total{reason=\"" + reason + "\"} " + std::to_string(count) + "\n";
    }
    if (signed_out_verdicts) {
        out += "# HELP pam_oauth2d_signed_out_verdicts_total Cached verdicts not used because their sign-in "
               "ended (back-channel logout).\n# TYPE pam_oauth2d_signed_out_verdicts_total counter\n"
               "pam_oauth2d_signed_out_verdicts_total " +
               std::to_string(signed_out_verdicts()) + "\n";
    }
    return out;
}

} // namespace pam_oauth2
