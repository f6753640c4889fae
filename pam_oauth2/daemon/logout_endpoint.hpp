#pragma once

#include "clock.hpp"
#include "logger.hpp"
#include "logout_guards.hpp"
#include "logout_token.hpp"
#include "metrics.hpp"
#include "signed_out.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <variant>

namespace pam_oauth2 {

class TlsServerContext;

// The OpenID Connect back-channel logout endpoint (Back-Channel Logout 1.0, section 2.5): POST with
// Content-Type application/x-www-form-urlencoded and a body logout_token=JWT. A token that verifies
// (core/logout_token), within the rate limit and never seen before, is answered 200 and reported
// through `signed_out`; anything else gets its 4xx, ends nothing, and one log line naming the
// reason and the token's fingerprint, never the token.
class LogoutEndpoint {
public:
    struct Dependencies {
        LogoutKeys keys;                                           // the issuer's JWKS, cached as for access tokens
        std::function<void(const SignedOut&)> signed_out;          // the verdict caches stop answering for it
        std::function<std::size_t(const SignedOut&)> end_sessions; // what is tracked for it ends; empty: none
        Metrics* metrics = nullptr;
        const Logger* logger = nullptr;
        Clock now;
        std::function<long long()> now_ms; // the rate limit's clock
    };

    /// Bodies over this are refused with 413.
    static constexpr std::size_t max_body_bytes = std::size_t{16} * 1024;
    static constexpr std::size_t max_head_bytes = std::size_t{8} * 1024;

    LogoutEndpoint(LogoutTokenPolicy policy, long rate_per_second, Dependencies dependencies);

    /// The response to `received` (the bytes of one connection; `complete` false when the peer
    /// stopped or the wait ended first).
    std::string answer(const std::string& received, bool complete);

    /// Serves `endpoint` on `where` (a HOST:PORT, loopback unless `tls`) from a thread of its own,
    /// over TLS when `tls` is set.
    static std::optional<std::string> open(const std::string& where, const std::shared_ptr<LogoutEndpoint>& endpoint,
                                           std::shared_ptr<const TlsServerContext> tls = nullptr);

private:
    // A refusal: counted by `reason`, one log line, the response.
    std::string refuse(int status, const std::string& reason, const std::string& detail,
                       const std::string& fingerprint = {});
    std::string accept_token(const std::string& token);

    LogoutTokenPolicy policy_;
    TokenBucket bucket_;
    ReplayCache replays_;
    Dependencies with_;
};

} // namespace pam_oauth2
