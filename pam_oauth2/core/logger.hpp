#pragma once

#include "outcome.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

class LoginObserver;

// Writes the module's log lines through a sink (pam_syslog or stderr, chosen by pam_context). All
// formatting happens here, in C++; the sink receives finished lines and passes them as "%s".
class Logger {
public:
    using Sink = std::function<void(int priority, const std::string& line)>;

    explicit Logger(Sink sink, bool debug = false) : sink_(std::move(sink)), debug_(debug) {}

    void set_debug(bool debug) { debug_ = debug; }
    [[nodiscard]] bool debug_enabled() const { return debug_; }

    /// Writes one line at a syslog priority (LOG_ERR, LOG_NOTICE, ...).
    void log(int priority, const std::string& line) const;
    /// Writes at LOG_DEBUG only when `debug` is on.
    void debug(const std::string& line) const;

    /// Who is told each step of a decision, for front ends that explain one (pam_oauth2_check); the
    /// observer must outlive the decision. Without one (the module, pam_oauth2d) `observer()` is null
    /// and callers build no event.
    void set_observer(LoginObserver* observer) { observer_ = observer; }
    [[nodiscard]] LoginObserver* observer() const { return observer_; }

private:
    Sink sink_;
    bool debug_;
    LoginObserver* observer_ = nullptr;
};

/// `sha256:` and the first 8 hex digits of SHA-256(token): enough to correlate lines, useless to replay.
std::string token_fingerprint(std::string_view token);

/// A value made safe for a key=value line: bare when it is plain, otherwise double-quoted with quotes,
/// backslashes, control bytes and bytes above ASCII escaped, so no input can forge a field or a line.
std::string log_value(std::string_view value);

// Everything one decision line says (DESIGN.md section 2, "Log line").
struct DecisionRecord {
    Outcome outcome = Outcome::InternalError;
    std::string reason;
    std::string user;   // already validated; empty when the user itself was unusable
    std::string method; // verifier that decided, or "none" when none ran
    std::string token_fingerprint;
    std::string rhost;
    long elapsed_ms = 0;
};

/// `result=denied reason="..." user=alice method=userinfo token=sha256:3f9a1c0e rhost=10.0.0.7 ms=14`
std::string format_decision(const DecisionRecord& record);

/// The syslog priority a decision is logged at (Module Writers' Guide levels).
int decision_priority(Outcome outcome) noexcept;

} // namespace pam_oauth2
