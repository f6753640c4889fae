#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <variant>

namespace pam_oauth2 {

class TlsServerContext;

// What one of the daemon's small HTTP endpoints (metrics, back-channel logout) does with a request.
struct HttpHandler {
    /// Bytes read at most; a request that reaches it is answered as it is (the handler says 413).
    std::size_t max_request_bytes = 4096;
    /// Whether what came so far is the whole request.
    std::function<bool(const std::string& received)> complete;
    /// The whole response to what came: `complete` false when the peer stopped or the wait ended first.
    std::function<std::string(const std::string& received, bool complete)> answer;
};

/// Binds "unix:/path" or "HOST:PORT" (checked by the configuration) and listens; `what` names the
/// endpoint in the error. The listening fd, or the problem.
std::variant<int, std::string> bind_http_listener(const std::string& where, const std::string& what);

/// Serves `listener` from a thread of its own until the process ends: up to 32 connections at once
/// (one more evicts the oldest still silent), none for more than 2 s, so a local user who connects and
/// stays silent cannot stall the others. With `tls`, every connection is TLS: its handshake and its
/// request must both come within the request's 1 s, and one that fails or stalls in the handshake is
/// closed unanswered, holding up no other.
void serve_http_listener(int listener, HttpHandler handler, std::shared_ptr<const TlsServerContext> tls = nullptr);

} // namespace pam_oauth2
