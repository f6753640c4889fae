#pragma once

#include "token_identity.hpp"

#include <optional>
#include <string>

namespace pam_oauth2 {

// One entry of the audit trail: a decision, or a session ended. Never a token or a secret: tokens
// and jti appear only as token_fingerprint values. Written as one JSON object per line.
struct AuditEvent {
    std::string event;   // "login" (a decision) or "session_ended"
    long long time = 0;  // seconds since the epoch, when it happened
    std::string host;    // this machine's host name
    std::string service; // the PAM service
    std::string user;    // the PAM user, when loggable
    std::string result;  // outcome_name(...) for logins; "ended" for sessions
    std::string reason;  // the decision's reason, or why the session was ended
    std::string method;  // the verify method that decided, empty when none ran
    std::string token_fingerprint;
    std::string rhost;
    std::optional<long> peer_pid;          // the process that asked pam_oauth2d, when brokered
    std::optional<TokenIdentity> identity; // iss, sub, sid, client, aud, jti fingerprint, exp
};

// Where audit events go (a file or syslog: audit_file_sink.hpp, audit_syslog_sink.hpp). Never throws, never blocks a
// login past a short bound; a failure to write is counted and logged by the sink, the login goes on.
class AuditSink {
public:
    virtual ~AuditSink() = default;
    virtual void write(const AuditEvent& event) noexcept = 0;
};

/// The event as one line of JSON (no newline): every field by its documented name, absent ones left out.
std::string format_audit_event(const AuditEvent& event);

} // namespace pam_oauth2
