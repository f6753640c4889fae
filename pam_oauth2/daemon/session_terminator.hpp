#pragma once

#include "fallible.hpp"
#include "secure_string.hpp"
#include "session_tracker.hpp"

#include <string>

namespace pam_oauth2 {

/// The one statement that ends a session: PostgreSQL terminates the backend only when its pid, its
/// user and its start (within 2 s of the start /proc gave) all match the record, checked and done in
/// the same statement, so a pid the daemon did not verify is never signalled. $1 pid, $2 user, $3 the
/// start in seconds since the epoch.
extern const char* const terminate_statement;

// Ends sessions through PostgreSQL itself (pg_terminate_backend), as the role of the connection
// string in session_terminate_conninfo_file (pg_signal_backend and pg_read_all_stats only; see
// docs/sessions.md). One short connection per attempt, bounded by connect_timeout and
// statement_timeout; never kill(2).
class PostgresTerminator : public SessionEnder {
public:
    /// How long connecting, and the statement, may take.
    static constexpr int connect_timeout_seconds = 3;
    static constexpr int statement_timeout_ms = 3000;

    explicit PostgresTerminator(SecureString conninfo) : conninfo_(std::move(conninfo)) {}
    Termination end(const TrackedSession& session) override;

private:
    SecureString conninfo_;
};

/// The connection string in `path`, read through read_trusted_file: owned by root (or `owner`, the
/// daemon's user after it dropped root), not readable by group or others; one trailing newline
/// dropped. Otherwise what is wrong, worded to follow the key's name.
Fallible<SecureString> read_conninfo_file(const std::string& path, uid_t owner);

} // namespace pam_oauth2
