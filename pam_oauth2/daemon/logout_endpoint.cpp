#include "logout_endpoint.hpp"

#include "http_listener.hpp"
#include "http_request.hpp"
#include "text.hpp"

#include <syslog.h>

namespace pam_oauth2 {
namespace {

// Section 2.8: a JSON error object; the description says what to fix, never echoing the token.
std::string error_body(const std::string& error, const std::string& description)
{
    return R"({"error":")" + error + R"(","error_description":")" + description + "\"}";
}

std::string media_type(const std::string& content_type)
{
    std::string type = content_type.substr(0, content_type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
        type.pop_back();
    }
    for (auto& c : type) {
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return type;
}

} // namespace

LogoutEndpoint::LogoutEndpoint(LogoutTokenPolicy policy, long rate_per_second, Dependencies dependencies)
    : policy_(std::move(policy)), bucket_(rate_per_second),
      // A jti is kept as long as a token bearing it could pass the iat window.
      replays_(100000, policy_.max_age_seconds + 2 * policy_.leeway_seconds), with_(std::move(dependencies))
{
}

std::string LogoutEndpoint::refuse(int status, const std::string& reason, const std::string& detail,
                                   const std::string& fingerprint)
{
    if (with_.metrics != nullptr) {
        with_.metrics->logout_refused(reason);
    }
    if (with_.logger != nullptr) {
        with_.logger->log(LOG_WARNING, "back-channel logout refused (" + reason + "): " + detail +
                                           (fingerprint.empty() ? "" : " token=" + fingerprint));
    }
    const std::string error = status == 400 ? "invalid_request" : "request_refused";
    return http_response(status, "application/json", error_body(error, "refused: " + reason),
                         status == 405 ? "Allow: POST\r\n" : "");
}

std::string LogoutEndpoint::answer(const std::string& received, bool complete)
{
    if (received.empty()) {
        return {}; // a connection that sent nothing (a port probe) is closed without a word
    }
    if (!http_head_ended(received)) {
        return received.size() >= max_head_bytes ? refuse(413, "too_large", "request head over 8 KiB")
                                                 : refuse(400, "incomplete", "no whole request head came");
    }
    const auto head = parse_http_head(received);
    if (!head) {
        return refuse(400, "malformed", "not an HTTP/1.x request");
    }
    if (head->method != "POST") {
        return refuse(405, "method", "method " + log_safe(head->method) + " (only POST)");
    }
    const auto type = head->headers.find("content-type");
    if (type == head->headers.end() || media_type(type->second) != "application/x-www-form-urlencoded") {
        return refuse(400, "content_type", "Content-Type is not application/x-www-form-urlencoded");
    }
    const auto length = content_length(*head);
    if (!length || head->headers.count("transfer-encoding") != 0) {
        return refuse(400, "length", "no plain Content-Length");
    }
    if (*length > max_body_bytes) {
        return refuse(413, "too_large", "body of " + std::to_string(*length) + " bytes (at most 16 KiB)");
    }
    if (!complete || received.size() - head->header_bytes != *length) {
        return refuse(400, "incomplete", "the body is not Content-Length bytes");
    }
    if (with_.now_ms && !bucket_.take(with_.now_ms())) {
        return refuse(429, "rate", "over the rate limit");
    }
    const auto token = form_value(std::string_view(received).substr(head->header_bytes), "logout_token");
    if (!token || token->empty()) {
        return refuse(400, "no_token", "the body has no single logout_token");
    }
    return accept_token(*token);
}

std::string LogoutEndpoint::accept_token(const std::string& token)
{
    const std::string fingerprint = token_fingerprint(token);
    const long long now = with_.now();
    auto verified = verify_logout_token(token, policy_, with_.keys, now);
    if (auto* refused = std::get_if<LogoutRefusal>(&verified)) {
        // Keys that cannot be had are the endpoint's trouble, not the sender's: it may retry.
        return refuse(refused->unavailable ? 503 : 400, refused->reason, refused->detail, fingerprint);
    }
    const auto& claims = std::get<LogoutClaims>(verified);
    if (!replays_.first_use(claims.issuer, claims.jti, now)) {
        return refuse(400, "replay", "jti already used", fingerprint);
    }
    const SignedOut signed_out{claims.issuer, claims.subject, claims.session_id, now};
    if (with_.signed_out) {
        with_.signed_out(signed_out);
    }
    const std::size_t ended = with_.end_sessions ? with_.end_sessions(signed_out) : 0;
    if (with_.metrics != nullptr) {
        with_.metrics->logout_accepted();
    }
    if (with_.logger != nullptr) {
        with_.logger->log(LOG_NOTICE, "back-channel logout accepted: iss=" + log_value(claims.issuer) +
                                          " sub=" + log_value(claims.subject) + " sid=" + log_value(claims.session_id) +
                                          " ended=" + std::to_string(ended) + " token=" + fingerprint);
    }
    return http_response(200, "", "");
}

std::optional<std::string> LogoutEndpoint::open(const std::string& where,
                                                const std::shared_ptr<LogoutEndpoint>& endpoint,
                                                std::shared_ptr<const TlsServerContext> tls)
{
    auto bound = bind_http_listener(where, "back-channel logout");
    if (auto* problem = std::get_if<std::string>(&bound)) {
        return *problem;
    }
    HttpHandler handler;
    handler.max_request_bytes = max_head_bytes + max_body_bytes + 1;
    // A head that announces too long a body is answered at once, without reading the body.
    handler.complete = [](const std::string& received) {
        const auto head = http_head_ended(received) ? parse_http_head(received) : std::nullopt;
        const auto length = head ? content_length(*head) : std::nullopt;
        return http_request_complete(received) || (length && *length > max_body_bytes);
    };
    handler.answer = [endpoint](const std::string& received, bool complete) {
        return endpoint->answer(received, complete);
    };
    serve_http_listener(std::get<int>(bound), std::move(handler), std::move(tls));
    return std::nullopt;
}

} // namespace pam_oauth2
