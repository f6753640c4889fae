#pragma once

#include "unique_fd.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace pam_oauth2::token {

// A request line that reached the expected path: its query, and the connection to answer on.
struct Callback {
    std::string query; // after '?', still percent-encoded; may carry the authorization code
    pam_oauth2::UniqueFd connection;
};

// Why no callback came: the deadline passed, or the listener failed.
struct ListenFailure {
    bool timed_out = false;
    std::string problem;
};

/// A one-shot HTTP/1.1 listener on 127.0.0.1 for the redirect of RFC 8252 section 7.3. It waits for
/// one GET of one path; every other request (another path, another method, a request too large or
/// unreadable) is answered with a small error page and ignored, so a stray request can neither end
/// the sign-in nor stall it (connections are read side by side, each with its own limits).
class LoopbackListener {
public:
    /// Binds 127.0.0.1 on the first free port of `ports`, or an ephemeral one when `ports` is empty.
    static std::variant<std::unique_ptr<LoopbackListener>, std::string> open(const std::vector<int>& ports);

    [[nodiscard]] int port() const { return port_; }

    /// Waits until a GET of `path` arrives or `deadline` passes.
    std::variant<Callback, ListenFailure> wait(const std::string& path, std::chrono::steady_clock::time_point deadline);

    /// Answers a connection with a complete HTML page and closes it (best effort: the browser may be gone).
    static void answer(Callback& callback, int status, const std::string& html);

    LoopbackListener(pam_oauth2::UniqueFd socket, int port) : socket_(std::move(socket)), port_(port) {}

private:
    pam_oauth2::UniqueFd socket_;
    int port_;
};

/// The page the browser lands on: plain HTML, no script, no external resources, `message` escaped.
std::string landing_page(const std::string& title, const std::string& message);

/// `text` with &, <, >, " and ' escaped for HTML.
std::string html_escape(const std::string& text);

} // namespace pam_oauth2::token
