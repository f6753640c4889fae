#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace pam_oauth2 {

// What pam_oauth2d counts, shown in the Prometheus text format when `metrics` is set. Never a token,
// a user name or anything a client sent: labels are results, methods and configured hosts only.
class Metrics {
public:
    void login(const std::string& result, const std::string& method);
    void provider_request(const std::string& host, bool answered, double seconds);
    /// A request to `host` failed at once: its breaker is open ("breaker") or its queue full ("queue").
    void provider_fast_failed(const std::string& host, const std::string& reason);
    /// The breaker's state for `host` after a request: 0 closed, 1 open, 2 probing.
    void provider_breaker(const std::string& host, int state);
    /// A connection refused because its uid ("user") or its service ("service") held its share.
    void over_cap(const std::string& cap);
    void refusal_remembered() { remembered_.fetch_add(1, std::memory_order_relaxed); }
    void coalesced() { coalesced_.fetch_add(1, std::memory_order_relaxed); }
    void answered_from_memory() { from_memory_.fetch_add(1, std::memory_order_relaxed); }
    void peer_refused() { peers_refused_.fetch_add(1, std::memory_order_relaxed); }
    // The shared cache: entries found in Redis, looked up and not found, Redis failures and values
    // that did not open, and its breaker (0 closed, 1 open, 2 probing).
    void shared_cache_hit() { shared_hits_.fetch_add(1, std::memory_order_relaxed); }
    void shared_cache_miss() { shared_misses_.fetch_add(1, std::memory_order_relaxed); }
    void shared_cache_error() { shared_errors_.fetch_add(1, std::memory_order_relaxed); }
    void shared_cache_breaker(int state) { shared_breaker_.store(state, std::memory_order_relaxed); }
    /// An audit event that could not be written whole (the login went on).
    void audit_failed() { audit_failures_.fetch_add(1, std::memory_order_relaxed); }
    // Refusals shared through the fleet's cache ("hit", "miss", "written") and the documents' refresh
    // lease ("taken": this host fetches; "waited": the owner's copy came in time; "fell_back": it did not).
    void shared_refusal(const char* what);
    void shared_lease(const char* what);
    // Back-channel logout: tokens accepted, refused by reason (a fixed word), cached verdicts not used
    // because their sign-in ended.
    void logout_accepted() { logouts_accepted_.fetch_add(1, std::memory_order_relaxed); }
    void logout_refused(const std::string& reason);
    std::function<unsigned long long()> signed_out_verdicts; // set by the daemon; empty: not shown
    // Ending sessions: how many are tracked, logins over max_tracked_sessions not tracked, sessions
    // ended by reason, forgotten without ending (exited, pid_reused, not_in_postgresql), and failed
    // attempts (PostgreSQL down, the role missing or lacking the right).
    void sessions_tracked(long count) { sessions_tracked_.store(count, std::memory_order_relaxed); }
    void session_untracked() { sessions_untracked_.fetch_add(1, std::memory_order_relaxed); }
    void session_ended(const std::string& reason);
    void session_forgotten(const std::string& why);
    void session_termination_failed() { termination_failures_.fetch_add(1, std::memory_order_relaxed); }
    // session_recheck: tokens asked about again, and the times the provider could not answer.
    void session_rechecked() { sessions_rechecked_.fetch_add(1, std::memory_order_relaxed); }
    void recheck_unavailable() { recheck_unavailable_.fetch_add(1, std::memory_order_relaxed); }
    std::atomic<long> connections{0}; // being served now
    std::atomic<long> in_flight{0};   // verifications running now (the queue behind them waits on these)

    [[nodiscard]] std::string text() const;

private:
    [[nodiscard]] std::string availability_text() const;
    [[nodiscard]] std::string fleet_text() const;
    [[nodiscard]] std::string sessions_text() const;
    struct Latency {
        unsigned long long requests = 0;
        unsigned long long failures = 0;
        double seconds = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, unsigned long long> logins_;
    std::map<std::string, Latency> providers_;
    std::map<std::pair<std::string, std::string>, unsigned long long> fast_failed_;
    std::map<std::string, int> breakers_;
    std::map<std::string, unsigned long long> over_cap_;
    std::atomic<unsigned long long> remembered_{0};
    std::atomic<unsigned long long> coalesced_{0};
    std::atomic<unsigned long long> from_memory_{0};
    std::atomic<unsigned long long> peers_refused_{0};
    std::atomic<unsigned long long> shared_hits_{0};
    std::atomic<unsigned long long> shared_misses_{0};
    std::atomic<unsigned long long> shared_errors_{0};
    std::atomic<int> shared_breaker_{0};
    std::atomic<unsigned long long> audit_failures_{0};
    std::atomic<unsigned long long> shared_refusal_hits_{0};
    std::atomic<unsigned long long> shared_refusal_misses_{0};
    std::atomic<unsigned long long> shared_refusals_written_{0};
    std::atomic<unsigned long long> lease_taken_{0};
    std::atomic<unsigned long long> lease_waited_{0};
    std::atomic<unsigned long long> lease_fell_back_{0};
    [[nodiscard]] std::string logout_text() const;
    std::atomic<unsigned long long> logouts_accepted_{0};
    std::map<std::string, unsigned long long> logouts_refused_;
    std::map<std::string, unsigned long long> sessions_ended_;
    std::map<std::string, unsigned long long> sessions_forgotten_;
    std::atomic<long> sessions_tracked_{0};
    std::atomic<unsigned long long> sessions_untracked_{0};
    std::atomic<unsigned long long> sessions_rechecked_{0};
    std::atomic<unsigned long long> recheck_unavailable_{0};
    std::atomic<unsigned long long> termination_failures_{0};
};

} // namespace pam_oauth2
