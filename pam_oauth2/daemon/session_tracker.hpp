#pragma once

#include "audit.hpp"
#include "clock.hpp"
#include "logger.hpp"
#include "metrics.hpp"
#include "process_start.hpp"
#include "session_policy.hpp"
#include "signed_out.hpp"
#include "token_identity.hpp"

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace pam_oauth2 {

struct RecheckMaterial; // session_recheck.hpp: the token and the configuration that verified it

// One granted broker login whose policy asks for its session to end: the backend that asked (peer
// pid and that process's start), who logged in, the token's identity (never the token) and when.
struct TrackedSession {
    pid_t pid = 0;
    ProcessStart start;
    std::string service;
    std::string user;
    TokenIdentity identity;
    SessionPolicy policy;
    long long logged_in_at = 0;
    std::optional<SessionDeadline> deadline; // from the policy; none under end_on_logout alone
    std::optional<EndReason> ending;         // set when it is due or signed out
    /// Set for an opaque token under session_recheck: the only copy of the token the daemon keeps,
    /// released (and so wiped) when the entry goes or the provider refuses it.
    std::shared_ptr<const RecheckMaterial> recheck;
    long long recheck_at = 0; // when the token is asked about next
};

// What asking the provider again about a session's token came to.
struct Recheck {
    enum Status { Valid, Refused, Unavailable };
    Status status = Unavailable;
    std::string reason; // no secret
};

// Asks the provider again about a tracked session's token (session_recheck: ProviderRechecker).
class SessionRechecker {
public:
    virtual ~SessionRechecker() = default;
    /// The provider's answer for `session.recheck` (set); Refused also drops the verdicts cached for it.
    virtual Recheck recheck(const TrackedSession& session) = 0;
};

// What one attempt to end a session came to.
struct Termination {
    enum Status { Ended, NotFound, Failed };
    Status status = Failed;
    std::string problem; // Failed: why, without a secret; NotFound: what was not there
};

// Ends one session, after checking it is still the one recorded (session_terminator: PostgreSQL).
class SessionEnder {
public:
    virtual ~SessionEnder() = default;
    virtual Termination end(const TrackedSession& session) = 0;
};

// The sessions pam_oauth2d ends: bounded (a login over max_tracked_sessions is not tracked, counted
// and logged: dropping the oldest would free a session from its policy without a trace), forgotten
// when the backend exits or its pid holds another process, ended on their own thread when due or
// signed out. Logins only add an entry; nothing they do waits for PostgreSQL.
class SessionTracker {
public:
    using ProcessReader = std::function<std::optional<ProcessStart>(pid_t)>;
    /// How many entries a tick re-reads from /proc (the rest wait for the next ticks).
    static constexpr std::size_t checks_per_tick = 256;
    /// How many tokens a tick asks the provider about at most, one at a time (the most overdue first;
    /// the rest stay due for the next ticks), so a fleet of sessions never storms the provider.
    static constexpr std::size_t rechecks_per_tick = 16;

    /// `background` false: no thread, the caller ticks (tests, with their own clock and /proc).
    SessionTracker(
        Metrics& metrics, const Logger& logger, Clock now = system_now,
        ProcessReader read = [](pid_t pid) { return read_process_start(pid); }, bool background = true);
    ~SessionTracker();
    SessionTracker(const SessionTracker&) = delete;
    SessionTracker& operator=(const SessionTracker&) = delete;

    /// The bound, and who ends sessions (null: nobody can, each attempt fails and is counted).
    void configure(std::size_t capacity, std::shared_ptr<SessionEnder> ender);
    /// Where session_ended events go (null: nowhere).
    void set_audit(AuditSink* audit);
    /// Who asks the provider again under session_recheck (null: nobody, no token is kept).
    void set_rechecker(SessionRechecker* rechecker);
    /// Records a session (replacing a stale entry of the same pid); false when over the bound.
    bool track(TrackedSession session);
    /// Marks every tracked session of `signed_out.issuer` with its sub and/or sid whose policy ends
    /// it on logout, to be ended at once (a token without sid: by its sub); returns how many.
    std::size_t end_signed_out(const SignedOut& signed_out);
    /// One pass: forget exited backends (checks_per_tick of them), re-check the tokens that are due
    /// (rechecks_per_tick of them), end what is due.
    void tick();
    /// Runs tick() every second on its own thread (the first track() starts it).
    void start();
    [[nodiscard]] std::size_t size() const;
    /// The sessions tracked now (for tests and the debug log).
    [[nodiscard]] std::map<pid_t, TrackedSession> snapshot() const;

private:
    void forget_exited();
    void end_due(long long now);
    void recheck_due(long long now);
    void settle_recheck(const TrackedSession& session, const Recheck& result, long long now);
    void attempt(const TrackedSession& session, SessionEnder* ender, long long now);
    void failed(const std::string& problem, long long now);
    void audit_ended(const TrackedSession& session, long long now);
    void publish_size();

    Metrics& metrics_;
    const Logger& logger_;
    Clock now_;
    ProcessReader read_;
    bool background_;
    mutable std::mutex mutex_;
    std::map<pid_t, TrackedSession> sessions_;
    pid_t cursor_ = 0; // where the next /proc pass starts
    std::size_t capacity_ = 4096;
    bool full_logged_ = false;
    bool recheck_failing_ = false; // one line when re-checks start failing, one when they work again
    std::shared_ptr<SessionEnder> ender_;
    AuditSink* audit_ = nullptr;
    SessionRechecker* rechecker_ = nullptr;
    // Failures: one line per change of problem, and the next attempt after a growing pause.
    std::string last_problem_;
    long long retry_at_ = 0;
    long backoff_seconds_ = 0;
    std::mutex run_mutex_; // one tick at a time
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace pam_oauth2
