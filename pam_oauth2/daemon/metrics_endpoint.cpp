#include "metrics_endpoint.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace pam_oauth2 {
namespace {

std::variant<int, std::string> bind_metrics(const std::string& where)
{
    if (where.rfind("unix:", 0) == 0) {
        const std::string path = where.substr(5);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (path.size() >= sizeof address.sun_path) {
            return "metrics socket path " + path + " is too long";
        }
        std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
        unlink(path.c_str());
        const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
            listen(fd, 16) != 0) {
            const std::string problem = "cannot serve metrics on " + path + ": " + std::strerror(errno);
            if (fd >= 0) {
                close(fd);
            }
            return problem;
        }
        return fd;
    }
    const auto colon = where.rfind(':');
    std::string host = where.substr(0, colon);
    if (host.size() > 2 && host.front() == '[') {
        host = host.substr(1, host.size() - 2);
    }
    const std::string port = where.substr(colon + 1);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
        return "cannot resolve metrics address " + where;
    }
    const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    const bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
                    bind(fd, found->ai_addr, found->ai_addrlen) == 0 && listen(fd, 16) == 0;
    freeaddrinfo(found);
    if (!ok) {
        const std::string problem = "cannot serve metrics on " + where + ": " + std::strerror(errno);
        if (fd >= 0) {
            close(fd);
        }
        return problem;
    }
    return fd;
}

// Connections served at once; one more evicts the oldest still waiting for its request.
constexpr std::size_t max_connections = 32;
// A scraper sends its request at once: this bounds one that does not (the answer does not depend on
// the request, it goes out then anyway) and, doubled, the whole connection.
constexpr auto request_wait = std::chrono::milliseconds(1000);
constexpr std::size_t request_bytes = 4096;

using Clock = std::chrono::steady_clock;

// One scrape in progress: reading its request, then writing the answer without blocking.
struct Connection {
    int fd = -1;
    Clock::time_point answer_by;
    Clock::time_point close_by;
    std::string request;
    std::string response; // empty while the request is read
    std::size_t sent = 0;
};

std::string response_of(const Metrics& metrics)
{
    const std::string body = metrics.text();
    return "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// Reads what has come; true when the request is complete (or as long as it may be, or the peer is done).
bool read_request(Connection& connection)
{
    char buffer[1024];
    for (;;) {
        const ssize_t got = recv(connection.fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (got <= 0) {
            return got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
        }
        connection.request.append(buffer, static_cast<std::size_t>(got));
        if (connection.request.find("\r\n\r\n") != std::string::npos || connection.request.size() >= request_bytes) {
            return true;
        }
    }
}

// Writes what the socket takes; false when the connection is done (all sent, or it failed).
bool write_response(Connection& connection)
{
    while (connection.sent < connection.response.size()) {
        const ssize_t wrote = send(connection.fd, connection.response.data() + connection.sent,
                                   connection.response.size() - connection.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return true;
        }
        if (wrote <= 0) {
            return false;
        }
        connection.sent += static_cast<std::size_t>(wrote);
    }
    return false;
}

// One step of a connection after poll(); false when it is to be closed.
bool advance(Connection& connection, short events, Clock::time_point now, const Metrics& metrics)
{
    if (now >= connection.close_by) {
        return false;
    }
    if (connection.response.empty()) {
        const bool complete = events != 0 && read_request(connection);
        if (!complete && now < connection.answer_by) {
            return true;
        }
        try {
            connection.response = response_of(metrics);
        } catch (...) { // out of memory: this scrape fails, the next one may not
            return false;
        }
    }
    return write_response(connection);
}

// Takes a new connection, making room by closing the oldest one still silent; none when full of answers.
void accept_one(int listener, std::vector<Connection>& open)
{
    const int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100)); // EMFILE and the like
        return;
    }
    if (open.size() >= max_connections) {
        const auto oldest =
            std::find_if(open.begin(), open.end(), [](const Connection& c) { return c.response.empty(); });
        if (oldest == open.end()) {
            close(fd);
            return;
        }
        close(oldest->fd);
        open.erase(oldest);
    }
    const auto now = Clock::now();
    try {
        open.push_back(Connection{fd, now + request_wait, now + 2 * request_wait, {}, {}, 0});
    } catch (...) {
        close(fd);
    }
}

int poll_timeout_ms(const std::vector<Connection>& open, Clock::time_point now)
{
    if (open.empty()) {
        return -1;
    }
    auto next = open.front().close_by;
    for (const auto& connection : open) {
        next = std::min(next, connection.response.empty() ? connection.answer_by : connection.close_by);
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    return static_cast<int>(std::max<long long>(wait + 1, 0));
}

// Serves every connection from one thread, none of them able to hold up the others.
[[noreturn]] void serve(int listener, const Metrics& metrics)
{
    std::vector<Connection> open; // in the order accepted
    std::vector<pollfd> watched;
    for (;;) {
        try {
            watched.assign(1, pollfd{listener, POLLIN, 0});
            for (const auto& connection : open) {
                watched.push_back(
                    pollfd{connection.fd, static_cast<short>(connection.response.empty() ? POLLIN : POLLOUT), 0});
            }
            if (poll(watched.data(), watched.size(), poll_timeout_ms(open, Clock::now())) < 0 && errno != EINTR) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            const auto now = Clock::now();
            std::size_t kept = 0;
            for (std::size_t i = 0; i < open.size(); ++i) {
                if (advance(open[i], watched[i + 1].revents, now, metrics)) {
                    if (kept != i) {
                        open[kept] = std::move(open[i]);
                    }
                    ++kept;
                } else {
                    close(open[i].fd);
                }
            }
            open.resize(kept);
            if ((watched[0].revents & POLLIN) != 0) {
                accept_one(listener, open);
            }
        } catch (...) { // out of memory: the connections are as they were, try again shortly
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

} // namespace

std::variant<std::unique_ptr<MetricsEndpoint>, std::string> MetricsEndpoint::open(const std::string& where,
                                                                                  const Metrics& metrics)
{
    auto bound = bind_metrics(where);
    if (auto* problem = std::get_if<std::string>(&bound)) {
        return *problem;
    }
    const int listener = std::get<int>(bound);
    std::thread([listener, &metrics] { serve(listener, metrics); }).detach();
    return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint());
}

} // namespace pam_oauth2
