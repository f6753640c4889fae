#include "audit.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

namespace pam_oauth2 {
namespace {

// RFC 3339 in UTC with a Z, whole seconds: what log shippers parse without a format string.
std::string rfc3339_utc(long long seconds)
{
    const auto time = static_cast<std::time_t>(seconds);
    std::tm parts{};
    char text[32] = {};
    if (gmtime_r(&time, &parts) == nullptr || std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts) == 0) {
        return {};
    }
    return text;
}

using Object = nlohmann::ordered_json;

void put_text(Object& object, const char* name, const std::string& value)
{
    if (!value.empty()) {
        object[name] = value;
    }
}

void put_identity(Object& object, const TokenIdentity& identity)
{
    put_text(object, "iss", identity.issuer);
    put_text(object, "sub", identity.subject);
    put_text(object, "sid", identity.session_id);
    put_text(object, "client_id", identity.client_id);
    if (!identity.audience.empty()) {
        object["aud"] = identity.audience;
    }
    put_text(object, "jti", identity.jti_fingerprint);
    if (identity.expires_at) {
        object["exp"] = *identity.expires_at;
    }
}

} // namespace

std::string format_audit_event(const AuditEvent& event)
{
    // Insertion order is the documented order, so a person reading the file finds the same layout
    // on every line.
    Object object = Object::object();
    put_text(object, "event", event.event);
    put_text(object, "time", rfc3339_utc(event.time));
    object["epoch"] = event.time;
    put_text(object, "host", event.host);
    put_text(object, "service", event.service);
    put_text(object, "user", event.user);
    put_text(object, "result", event.result);
    put_text(object, "reason", event.reason);
    put_text(object, "method", event.method);
    put_text(object, "token", event.token_fingerprint);
    put_text(object, "rhost", event.rhost);
    if (event.peer_pid) {
        object["peer_pid"] = *event.peer_pid;
    }
    if (event.identity) {
        put_identity(object, *event.identity);
    }
    // Invalid UTF-8 (a user name or reason quoting a claim) is replaced, never a throw: an event that
    // cannot be written as sent is still written.
    return object.dump(-1, ' ', false, Object::error_handler_t::replace);
}

} // namespace pam_oauth2
