#pragma once

#include <optional>

namespace pam_oauth2 {

struct SessionSettings;
struct DaemonConfig;

// When pam_oauth2d ends the session a brokered login opened: the PAM line's session_* options, each
// unset one taken from pam_oauth2d.conf's default of the same name.
struct SessionPolicy {
    bool end_at_expiry = false;
    long grace_seconds = 0;
    long max_age_seconds = 0; // 0: no maximum age
    bool end_on_logout = false;
    long recheck_seconds = 0; // 0: the token is not asked about again (and always 0 for a JWT's login)

    /// Whether the policy asks for anything, so that the login is tracked at all.
    [[nodiscard]] bool any() const
    {
        return end_at_expiry || max_age_seconds > 0 || end_on_logout || recheck_seconds > 0;
    }
};

/// The line's values over the daemon's defaults.
SessionPolicy resolve_session_policy(const SessionSettings& line, const DaemonConfig& daemon);

// Why a session is ended; the metric's reason label and the log word.
enum class EndReason { Expiry, MaxAge, Logout, Revoked };

/// "expiry", "max_age", "logout", "revoked".
const char* end_reason_name(EndReason reason) noexcept;

// The moment a tracked session is due and why.
struct SessionDeadline {
    long long at = 0; // seconds since the epoch
    EndReason reason = EndReason::Expiry;
};

/// The earliest of exp + grace (with end_at_expiry and a known exp) and login + max age; nullopt
/// when neither applies (a token without exp under end_at_expiry alone: see docs/sessions.md).
std::optional<SessionDeadline> session_deadline(const SessionPolicy& policy, long long logged_in_at,
                                                std::optional<long long> expires_at);

} // namespace pam_oauth2
