#include "logger.hpp"

#include "digest.hpp"

#include <syslog.h>

#include <cstdio>

namespace pam_oauth2 {

void Logger::log(int priority, const std::string& line) const
{
    if (sink_) {
        sink_(priority, line);
    }
}

void Logger::debug(const std::string& line) const
{
    if (debug_) {
        log(LOG_DEBUG, line);
    }
}

std::string token_fingerprint(std::string_view token)
{
    const std::string digest = sha256_hex(token);
    return digest.empty() ? "sha256:unavailable" : "sha256:" + digest.substr(0, 8);
}

std::string log_value(std::string_view value)
{
    bool plain = !value.empty();
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f || c == '"' || c == '\\' || c == '=') {
            plain = false;
            break;
        }
    }
    if (plain) {
        return std::string(value);
    }
    std::string out = "\"";
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte >= 0x7f) {
            // Bytes above ASCII too: U+0085 is a line break to some log pipelines, and invalid UTF-8
            // breaks others.
            char escaped[5];
            static_cast<void>(std::snprintf(escaped, sizeof escaped, "\\x%02x", byte));
            out += escaped;
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

std::string format_decision(const DecisionRecord& record)
{
    std::string line = "result=";
    line += result_word(record.outcome);
    line += " reason=\"";
    // The reason is ours, but may quote claim values from the identity provider.
    const auto quoted_reason = log_value(record.reason.empty() ? std::string("-") : record.reason);
    line += quoted_reason.front() == '"' ? quoted_reason.substr(1, quoted_reason.size() - 2) : quoted_reason;
    line += "\" user=" + (record.user.empty() ? std::string("-") : log_value(record.user));
    line += " method=" + (record.method.empty() ? std::string("none") : record.method);
    line += " token=" + (record.token_fingerprint.empty() ? std::string("-") : record.token_fingerprint);
    line += " rhost=" + (record.rhost.empty() ? std::string("-") : log_value(record.rhost));
    line += " ms=" + std::to_string(record.elapsed_ms);
    return line;
}

int decision_priority(Outcome outcome) noexcept
{
    switch (outcome) {
    case Outcome::Granted: return LOG_INFO;
    case Outcome::Denied: return LOG_NOTICE;
    case Outcome::ConversationAgain: return LOG_INFO;
    case Outcome::OutOfMemory: return LOG_CRIT;
    case Outcome::Unavailable:
    case Outcome::ConfigError:
    case Outcome::InternalError: return LOG_ERR;
    }
    return LOG_ERR;
}

} // namespace pam_oauth2
