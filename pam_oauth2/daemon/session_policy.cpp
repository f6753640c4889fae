#include "session_policy.hpp"

#include "daemon_config.hpp"
#include "settings.hpp"

namespace pam_oauth2 {

SessionPolicy resolve_session_policy(const SessionSettings& line, const DaemonConfig& daemon)
{
    SessionPolicy policy;
    policy.end_at_expiry = line.end_at_expiry.value_or(daemon.session_end_at_expiry);
    policy.grace_seconds = line.grace_seconds.value_or(daemon.session_grace);
    policy.max_age_seconds = line.max_age_seconds.value_or(daemon.session_max_age);
    policy.end_on_logout = line.end_on_logout.value_or(daemon.session_end_on_logout);
    policy.recheck_seconds = line.recheck_seconds.value_or(daemon.session_recheck);
    return policy;
}

const char* end_reason_name(EndReason reason) noexcept
{
    switch (reason) {
    case EndReason::Expiry: return "expiry";
    case EndReason::MaxAge: return "max_age";
    case EndReason::Logout: return "logout";
    case EndReason::Revoked: return "revoked";
    }
    return "expiry";
}

std::optional<SessionDeadline> session_deadline(const SessionPolicy& policy, long long logged_in_at,
                                                std::optional<long long> expires_at)
{
    std::optional<SessionDeadline> due;
    if (policy.end_at_expiry && expires_at) {
        due = SessionDeadline{*expires_at + policy.grace_seconds, EndReason::Expiry};
    }
    if (policy.max_age_seconds > 0) {
        const long long aged = logged_in_at + policy.max_age_seconds;
        if (!due || aged < due->at) {
            due = SessionDeadline{aged, EndReason::MaxAge};
        }
    }
    return due;
}

} // namespace pam_oauth2
