#include "session_tracker.hpp"

#include "text.hpp"

#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace pam_oauth2 {
namespace {

// The pause after a failed attempt doubles up to this, so that PostgreSQL down costs one attempt a minute.
constexpr long longest_backoff_seconds = 60;

std::string describe(const TrackedSession& session)
{
    std::string line = "pid=" + std::to_string(session.pid) + " service=" + log_value(session.service) +
                       " user=" + log_value(session.user) + " iss=" + log_value(session.identity.issuer) +
                       " sub=" + log_value(session.identity.subject);
    if (!session.identity.session_id.empty()) {
        line += " sid=" + log_value(session.identity.session_id);
    }
    if (!session.identity.jti_fingerprint.empty()) {
        line += " jti=" + session.identity.jti_fingerprint;
    }
    return line;
}

// Whether a logout names the session: same issuer, no claim that contradicts it, and one that names
// it. A token without sid cannot be told from the sign-in that ended, so its sub decides (fail closed).
bool names(const SignedOut& signed_out, const TokenIdentity& identity)
{
    if (signed_out.issuer != identity.issuer) {
        return false;
    }
    const bool same_subject = !signed_out.subject.empty() && signed_out.subject == identity.subject;
    const bool same_sid = !signed_out.session_id.empty() && signed_out.session_id == identity.session_id;
    const bool subject_agrees = signed_out.subject.empty() || same_subject;
    const bool sid_agrees = signed_out.session_id.empty() || identity.session_id.empty() || same_sid;
    return subject_agrees && sid_agrees && (same_subject || same_sid);
}

} // namespace

SessionTracker::SessionTracker(Metrics& metrics, const Logger& logger, Clock now, ProcessReader read, bool background)
    : metrics_(metrics), logger_(logger), now_(std::move(now)), read_(std::move(read)), background_(background)
{
}

SessionTracker::~SessionTracker()
{
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void SessionTracker::configure(std::size_t capacity, std::shared_ptr<SessionEnder> ender)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    capacity_ = capacity;
    ender_ = std::move(ender);
    retry_at_ = 0; // a new conninfo file is tried at once
    backoff_seconds_ = 0;
}

void SessionTracker::set_audit(AuditSink* audit)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    audit_ = audit;
}

void SessionTracker::set_rechecker(SessionRechecker* rechecker)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    rechecker_ = rechecker;
}

bool SessionTracker::track(TrackedSession session)
{
    session.deadline = session_deadline(session.policy, session.logged_in_at, session.identity.expires_at);
    if (session.policy.recheck_seconds <= 0) {
        session.recheck.reset(); // a token that is never asked about again is not kept
    }
    session.recheck_at = session.logged_in_at + session.policy.recheck_seconds;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        const bool known = sessions_.count(session.pid) != 0;
        if (!known && sessions_.size() >= capacity_) {
            metrics_.session_untracked();
            if (!full_logged_) {
                full_logged_ = true;
                logger_.log(LOG_WARNING, "max_tracked_sessions=" + std::to_string(capacity_) +
                                             " sessions are tracked: this one and later ones are not, so their "
                                             "policy is not applied (" +
                                             describe(session) + ")");
            }
            return false;
        }
        const pid_t pid = session.pid;
        sessions_[pid] = std::move(session);
        metrics_.sessions_tracked(static_cast<long>(sessions_.size()));
    }
    start();
    return true;
}

std::size_t SessionTracker::end_signed_out(const SignedOut& signed_out)
{
    std::size_t marked = 0;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        for (auto& [pid, session] : sessions_) {
            if (session.policy.end_on_logout && !session.ending && names(signed_out, session.identity)) {
                session.ending = EndReason::Logout;
                ++marked;
            }
        }
        retry_at_ = std::min(retry_at_, now_()); // a logout is worth one attempt now, even while backing off
    }
    if (marked > 0) {
        wake_.notify_all();
    }
    return marked;
}

void SessionTracker::tick()
{
    const std::lock_guard<std::mutex> running(run_mutex_);
    const long long now = now_();
    forget_exited();
    recheck_due(now);
    end_due(now);
}

// Re-reads the start of up to checks_per_tick backends, from where the last pass stopped: an exited
// backend (or its pid now another process's) is forgotten, and never ended.
void SessionTracker::forget_exited()
{
    std::vector<std::pair<pid_t, unsigned long long>> batch;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        auto it = sessions_.upper_bound(cursor_);
        for (std::size_t i = 0; i < std::min(checks_per_tick, sessions_.size()); ++i) {
            if (it == sessions_.end()) {
                it = sessions_.begin();
            }
            batch.emplace_back(it->first, it->second.start.ticks);
            cursor_ = it->first;
            ++it;
        }
    }
    for (const auto& [pid, ticks] : batch) {
        const auto start = read_(pid);
        if (start && start->ticks == ticks) {
            continue;
        }
        const std::lock_guard<std::mutex> lock(mutex_);
        const auto found = sessions_.find(pid);
        if (found != sessions_.end() && found->second.start.ticks == ticks) {
            sessions_.erase(found);
            metrics_.session_forgotten(start ? "pid_reused" : "exited");
        }
    }
    publish_size();
}

void SessionTracker::end_due(long long now)
{
    std::vector<TrackedSession> due;
    std::shared_ptr<SessionEnder> ender;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (now < retry_at_) {
            return;
        }
        for (auto& [pid, session] : sessions_) {
            if (!session.ending && session.deadline && session.deadline->at <= now) {
                session.ending = session.deadline->reason;
            }
            if (session.ending) {
                due.push_back(session);
            }
        }
        ender = ender_;
    }
    for (const auto& session : due) {
        attempt(session, ender.get(), now);
        const std::lock_guard<std::mutex> lock(mutex_);
        if (now < retry_at_) {
            break; // failing: the rest wait for the pause like this one
        }
    }
    publish_size();
}

// Ends one session that is due, after the last check that its pid still holds the recorded process.
void SessionTracker::attempt(const TrackedSession& session, SessionEnder* ender, long long now)
{
    const auto start = read_(session.pid);
    const auto forget = [&](const char* why) {
        const std::lock_guard<std::mutex> lock(mutex_);
        const auto found = sessions_.find(session.pid);
        if (found != sessions_.end() && found->second.start.ticks == session.start.ticks) {
            sessions_.erase(found);
        }
        if (why != nullptr) {
            metrics_.session_forgotten(why);
        }
    };
    if (!start || start->ticks != session.start.ticks) {
        forget(start ? "pid_reused" : "exited");
        return;
    }
    if (ender == nullptr) {
        failed("session_terminate_conninfo_file is not set, so no session can be ended", now);
        return;
    }
    const Termination result = ender->end(session);
    if (result.status == Termination::Failed) {
        failed(result.problem, now);
        return;
    }
    const std::string reason = end_reason_name(*session.ending);
    if (result.status == Termination::Ended) {
        metrics_.session_ended(reason);
        logger_.log(LOG_NOTICE, "ended the session of " + describe(session) + " reason=" + reason);
        audit_ended(session, now);
        forget(nullptr);
    } else {
        logger_.log(LOG_NOTICE, "no PostgreSQL backend matches the session of " + describe(session) + " (" +
                                    result.problem + "); nothing ended");
        forget("not_in_postgresql");
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!last_problem_.empty()) {
        logger_.log(LOG_NOTICE, "ending sessions works again");
        last_problem_.clear();
    }
    backoff_seconds_ = 0;
}

void SessionTracker::failed(const std::string& problem, long long now)
{
    metrics_.session_termination_failed();
    const std::lock_guard<std::mutex> lock(mutex_);
    if (problem != last_problem_) {
        logger_.log(LOG_ERR, "cannot end sessions: " + problem +
                                 " (retried with backoff; logged again when "
                                 "the problem changes)");
        last_problem_ = problem;
    }
    backoff_seconds_ = std::min(longest_backoff_seconds, std::max(1L, backoff_seconds_ * 2));
    retry_at_ = now + backoff_seconds_;
}

void SessionTracker::audit_ended(const TrackedSession& session, long long now)
{
    AuditSink* audit = nullptr;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        audit = audit_;
    }
    if (audit == nullptr) {
        return;
    }
    AuditEvent event;
    event.event = "session_ended";
    event.time = now;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) {
        event.host = host;
    }
    event.service = session.service;
    event.user = session.user;
    event.result = "ended";
    event.reason = end_reason_name(*session.ending);
    event.peer_pid = session.pid;
    event.identity = session.identity;
    audit->write(event);
}

// Asks the provider about the most overdue tokens, one at a time on this thread: the provider gate
// bounds each request by the configuration's timeout and its breaker makes a failing host fail fast.
void SessionTracker::recheck_due(long long now)
{
    std::vector<TrackedSession> due;
    SessionRechecker* rechecker = nullptr;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        rechecker = rechecker_;
        if (rechecker == nullptr) {
            return;
        }
        std::vector<std::pair<long long, pid_t>> overdue;
        for (const auto& [pid, session] : sessions_) {
            if (session.recheck && !session.ending && session.recheck_at <= now) {
                overdue.emplace_back(session.recheck_at, pid);
            }
        }
        const auto count = std::min(overdue.size(), rechecks_per_tick);
        std::partial_sort(overdue.begin(), overdue.begin() + static_cast<std::ptrdiff_t>(count), overdue.end());
        for (std::size_t i = 0; i < count; ++i) {
            due.push_back(sessions_.at(overdue[i].second));
        }
    }
    for (const auto& session : due) {
        settle_recheck(session, rechecker->recheck(session), now);
    }
}

void SessionTracker::settle_recheck(const TrackedSession& session, const Recheck& result, long long now)
{
    metrics_.session_rechecked();
    const std::lock_guard<std::mutex> lock(mutex_);
    if (result.status == Recheck::Unavailable) {
        // Fail closed holds for logins; an open session is kept, or an outage would end every
        // session of a fleet at once. Counted; logged when re-checks start failing (the reason
        // varies from one request to the next, timings included) and when they work again.
        metrics_.recheck_unavailable();
        if (!recheck_failing_) {
            logger_.log(LOG_WARNING, "cannot re-check the tokens of tracked sessions: " + result.reason +
                                         " (the sessions are kept; logged again when re-checks work again)");
            recheck_failing_ = true;
        }
    } else if (recheck_failing_) {
        logger_.log(LOG_NOTICE, "re-checking the tokens of tracked sessions works again");
        recheck_failing_ = false;
    }
    const auto found = sessions_.find(session.pid);
    if (found == sessions_.end() || found->second.recheck != session.recheck) {
        return; // ended, forgotten or replaced meanwhile
    }
    TrackedSession& tracked = found->second;
    tracked.recheck_at = now + tracked.policy.recheck_seconds;
    if (result.status == Recheck::Refused) {
        tracked.ending = EndReason::Revoked;
        tracked.recheck.reset(); // nothing asks about the token again: let it be wiped now
        logger_.log(LOG_NOTICE, "the provider refused the token of the session of " + describe(session) +
                                    " on re-check (" + result.reason + "): ending it");
    }
}

void SessionTracker::publish_size()
{
    const std::lock_guard<std::mutex> lock(mutex_);
    metrics_.sessions_tracked(static_cast<long>(sessions_.size()));
    if (sessions_.size() < capacity_) {
        full_logged_ = false;
    }
}

void SessionTracker::start()
{
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!background_ || thread_.joinable() || stopping_) {
        return;
    }
    thread_ = std::thread([this] {
        std::unique_lock<std::mutex> held(mutex_);
        while (!stopping_) {
            held.unlock();
            tick();
            held.lock();
            wake_.wait_for(held, std::chrono::seconds(1));
        }
    });
}

std::size_t SessionTracker::size() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return sessions_.size();
}

std::map<pid_t, TrackedSession> SessionTracker::snapshot() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return sessions_;
}

} // namespace pam_oauth2
