#include "loopback_listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace pam_oauth2::token {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t max_request_head = 8192; // a request line and headers; a browser's are far smaller
constexpr std::size_t max_connections = 16;    // browsers open a few speculative connections at most
constexpr auto connection_read_limit = std::chrono::seconds(10);

struct Connection {
    pam_oauth2::UniqueFd fd;
    std::string head;
    Clock::time_point opened;
};

std::variant<pam_oauth2::UniqueFd, int> bind_loopback(int port)
{
    pam_oauth2::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) {
        return errno;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // No SO_REUSEADDR: a port another process holds must be refused, not shared.
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd.get(), 16) != 0) {
        return errno;
    }
    return fd;
}

void send_all(int fd, const std::string& bytes)
{
    std::size_t sent = 0;
    const auto until = Clock::now() + std::chrono::seconds(2);
    while (sent < bytes.size() && Clock::now() < until) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            pollfd one{fd, POLLOUT, 0};
            (void)::poll(&one, 1, 100);
        } else {
            return;
        }
    }
}

void respond(int fd, int status, const std::string& html)
{
    const char* reason = status == 200   ? "OK"
                         : status == 400 ? "Bad Request"
                         : status == 404 ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                                         : "Service Unavailable";
    std::string response =
        "HTTP/1.1 " + std::to_string(status) + " " + reason +
        "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " + std::to_string(html.size()) +
        "\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
        "Content-Security-Policy: default-src 'none'\r\nConnection: close\r\n\r\n" +
        html;
    send_all(fd, response);
}

// What one complete request head asks for: the callback (its query), or nothing (answered here).
std::optional<std::string> examine(Connection& connection, const std::string& path)
{
    const std::string line = connection.head.substr(0, connection.head.find_first_of("\r\n"));
    const auto first = line.find(' ');
    const auto second = first == std::string::npos ? std::string::npos : line.find(' ', first + 1);
    if (second == std::string::npos || line.compare(second + 1, 7, "HTTP/1.") != 0) {
        respond(connection.fd.get(), 400, landing_page("Bad request", "This is not an HTTP/1.1 request."));
        return std::nullopt;
    }
    const std::string method = line.substr(0, first);
    const std::string target = line.substr(first + 1, second - first - 1);
    const auto question = target.find('?');
    if (target.substr(0, question) != path) {
        respond(connection.fd.get(), 404,
                landing_page("Not found", "This address only takes the sign-in answer; this request was ignored."));
        return std::nullopt;
    }
    if (method != "GET") {
        respond(connection.fd.get(), 405, landing_page("Method not allowed", "The sign-in answer comes as a GET."));
        return std::nullopt;
    }
    return question == std::string::npos ? std::string() : target.substr(question + 1);
}

// Reads what is there; true when the connection is finished with (answered, closed, or too big).
bool read_some(Connection& connection)
{
    char buffer[2048];
    const ssize_t n = ::recv(connection.fd.get(), buffer, sizeof buffer, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        return true;
    }
    if (n > 0) {
        connection.head.append(buffer, static_cast<std::size_t>(n));
    }
    if (connection.head.size() > max_request_head && connection.head.find("\r\n\r\n") == std::string::npos) {
        respond(connection.fd.get(), 400, landing_page("Bad request", "The request is too large."));
        return true;
    }
    return false;
}

bool complete(const Connection& connection)
{
    return connection.head.find("\r\n\r\n") != std::string::npos || connection.head.find("\n\n") != std::string::npos;
}

int milliseconds_until(Clock::time_point when)
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(when - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1000));
}

} // namespace

std::variant<std::unique_ptr<LoopbackListener>, std::string> LoopbackListener::open(const std::vector<int>& ports)
{
    const std::vector<int> tried = ports.empty() ? std::vector<int>{0} : ports;
    std::string refused;
    for (const int port : tried) {
        auto bound = bind_loopback(port);
        if (auto* fd = std::get_if<pam_oauth2::UniqueFd>(&bound)) {
            sockaddr_in address{};
            socklen_t length = sizeof address;
            if (::getsockname(fd->get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
                return std::string("cannot read the listener's port: ") + std::strerror(errno);
            }
            return std::make_unique<LoopbackListener>(std::move(*fd), ntohs(address.sin_port));
        }
        refused +=
            (refused.empty() ? "" : ", ") + std::to_string(port) + " (" + std::strerror(std::get<int>(bound)) + ")";
    }
    return "cannot listen on 127.0.0.1 for the sign-in answer: port " + refused;
}

std::variant<Callback, ListenFailure> LoopbackListener::wait(const std::string& path, Clock::time_point deadline)
{
    std::vector<Connection> connections;
    while (Clock::now() < deadline) {
        std::vector<pollfd> watched{{socket_.get(), POLLIN, 0}};
        for (const auto& connection : connections) {
            watched.push_back({connection.fd.get(), POLLIN, 0});
        }
        const int ready = ::poll(watched.data(), watched.size(), milliseconds_until(deadline));
        if (ready < 0 && errno != EINTR) {
            return ListenFailure{false, std::string("waiting for the sign-in answer failed: ") + std::strerror(errno)};
        }
        std::vector<Connection> kept;
        for (std::size_t i = 0; i < connections.size(); ++i) {
            auto& connection = connections[i];
            if ((watched[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && read_some(connection)) {
                continue;
            }
            if (complete(connection)) {
                if (auto query = examine(connection, path)) {
                    return Callback{std::move(*query), std::move(connection.fd)};
                }
                continue;
            }
            if (Clock::now() - connection.opened < connection_read_limit) {
                kept.push_back(std::move(connection));
            }
        }
        connections = std::move(kept);
        if ((watched[0].revents & POLLIN) != 0) {
            pam_oauth2::UniqueFd accepted(::accept4(socket_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
            if (accepted.get() >= 0 && connections.size() >= max_connections) {
                respond(accepted.get(), 503, landing_page("Busy", "Too many connections; this one was ignored."));
            } else if (accepted.get() >= 0) {
                connections.push_back(Connection{std::move(accepted), {}, Clock::now()});
            }
        }
    }
    return ListenFailure{true, "no sign-in answer came before the deadline"};
}

void LoopbackListener::answer(Callback& callback, int status, const std::string& html)
{
    respond(callback.connection.get(), status, html);
    ::shutdown(callback.connection.get(), SHUT_WR);
    callback.connection = pam_oauth2::UniqueFd(-1);
}

std::string html_escape(const std::string& text)
{
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string landing_page(const std::string& title, const std::string& message)
{
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pam_oauth2_token: " +
           html_escape(title) + "</title></head>\n<body><h1>" + html_escape(title) + "</h1>\n<p>" +
           html_escape(message) + "</p></body></html>\n";
}

} // namespace pam_oauth2::token
