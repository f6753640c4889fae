#include "http_listener.hpp"

#include "tls_server.hpp"

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

std::variant<int, std::string> bind_unix(const std::string& path, const std::string& what)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) {
        return what + " socket path " + path + " is too long";
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    unlink(path.c_str());
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 || listen(fd, 16) != 0) {
        const std::string problem = "cannot serve " + what + " on " + path + ": " + std::strerror(errno);
        if (fd >= 0) {
            close(fd);
        }
        return problem;
    }
    return fd;
}

std::variant<int, std::string> bind_tcp(const std::string& where, const std::string& what)
{
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
        return "cannot resolve " + what + " address " + where;
    }
    const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    const bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
                    bind(fd, found->ai_addr, found->ai_addrlen) == 0 && listen(fd, 16) == 0;
    freeaddrinfo(found);
    if (!ok) {
        const std::string problem = "cannot serve " + what + " on " + where + ": " + std::strerror(errno);
        if (fd >= 0) {
            close(fd);
        }
        return problem;
    }
    return fd;
}

// Connections served at once; one more evicts the oldest still waiting for its request.
constexpr std::size_t max_connections = 32;
// A client sends its request at once: this bounds one that does not (it is answered then with what
// came) and, doubled, the whole connection.
constexpr auto request_wait = std::chrono::milliseconds(1000);

using Clock = std::chrono::steady_clock;

// One request in progress: the TLS handshake (when served over TLS), reading the request, then
// writing the answer, all without blocking.
struct Connection {
    int fd = -1;
    Clock::time_point answer_by; // the handshake and the request both come by then
    Clock::time_point close_by;
    std::string request;
    std::string response; // empty while the request is read
    std::size_t sent = 0;
    std::unique_ptr<TlsSession> tls; // null: plain HTTP
    short events = POLLIN;           // what poll() waits for next
};

// What one read or write came to, over plain TCP or TLS alike.
struct Moved {
    TlsStep step;
    std::size_t bytes = 0;
};

Moved receive(Connection& connection, char* buffer, std::size_t size)
{
    if (connection.tls) {
        const auto got = connection.tls->read(buffer, size);
        return {got.step, got.bytes};
    }
    const ssize_t got = recv(connection.fd, buffer, size, MSG_DONTWAIT);
    if (got > 0) {
        return {TlsStep::Done, static_cast<std::size_t>(got)};
    }
    const bool wait = got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    return {wait ? TlsStep::WantRead : TlsStep::Ended};
}

Moved transmit(Connection& connection, const char* data, std::size_t size)
{
    if (connection.tls) {
        const auto wrote = connection.tls->write(data, size);
        return {wrote.step, wrote.bytes};
    }
    const ssize_t wrote = send(connection.fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (wrote > 0) {
        return {TlsStep::Done, static_cast<std::size_t>(wrote)};
    }
    const bool wait = wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    return {wait ? TlsStep::WantWrite : TlsStep::Ended};
}

short poll_events(TlsStep step)
{
    return step == TlsStep::WantWrite ? POLLOUT : POLLIN;
}

// Reads what has come; true when the request is complete (or as long as it may be, or the peer is done).
bool read_request(Connection& connection, const HttpHandler& handler, bool& whole)
{
    char buffer[4096];
    for (;;) {
        const std::size_t room = handler.max_request_bytes - connection.request.size();
        const Moved got = receive(connection, buffer, std::min(sizeof buffer, room));
        if (got.step != TlsStep::Done) {
            connection.events = poll_events(got.step);
            return got.step == TlsStep::Ended;
        }
        connection.request.append(buffer, got.bytes);
        whole = handler.complete(connection.request);
        if (whole || connection.request.size() >= handler.max_request_bytes) {
            return true;
        }
    }
}

// Writes what the socket takes; false when the connection is done (all sent, or it failed).
bool write_response(Connection& connection)
{
    while (connection.sent < connection.response.size()) {
        const Moved wrote = transmit(connection, connection.response.data() + connection.sent,
                                     connection.response.size() - connection.sent);
        if (wrote.step != TlsStep::Done) {
            connection.events = poll_events(wrote.step);
            return wrote.step != TlsStep::Ended;
        }
        connection.sent += wrote.bytes;
    }
    if (connection.tls) {
        connection.tls->close_notify();
    }
    return false;
}

// The TLS handshake, bounded by the request's own deadline; false when the connection is to be closed
// (it failed, or did not finish in time: nothing is answered without TLS).
bool shake_hands(Connection& connection, Clock::time_point now)
{
    const TlsStep step = connection.tls->handshake();
    if (step == TlsStep::Done) {
        connection.events = POLLIN;
        return true;
    }
    connection.events = poll_events(step);
    return step != TlsStep::Ended && now < connection.answer_by;
}

// One step of a connection after poll(); false when it is to be closed.
bool advance(Connection& connection, short events, Clock::time_point now, const HttpHandler& handler)
{
    if (now >= connection.close_by) {
        return false;
    }
    if (connection.tls && !connection.tls->established()) {
        if (!shake_hands(connection, now)) {
            return false;
        }
        if (!connection.tls->established()) {
            return true;
        }
        events = POLLIN; // the request may have come with the handshake's last flight
    }
    if (connection.response.empty()) {
        bool whole = false;
        const bool done = events != 0 && read_request(connection, handler, whole);
        if (!done && now < connection.answer_by) {
            return true;
        }
        try {
            connection.response = handler.answer(connection.request, whole);
        } catch (...) { // out of memory: this request fails, the next one may not
            return false;
        }
        if (connection.response.empty()) {
            return false;
        }
        connection.events = POLLOUT;
    }
    return write_response(connection);
}

// Takes a new connection, making room by closing the oldest one still silent; none when full of answers.
void accept_one(int listener, std::vector<Connection>& open, const TlsServerContext* tls)
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
        Connection connection{fd, now + request_wait, now + 2 * request_wait, {}, {}, 0, nullptr, POLLIN};
        if (tls != nullptr && !(connection.tls = TlsSession::start(*tls, fd))) {
            close(fd);
            return;
        }
        open.push_back(std::move(connection));
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
[[noreturn]] void serve(int listener, const HttpHandler& handler, const TlsServerContext* tls)
{
    std::vector<Connection> open; // in the order accepted
    std::vector<pollfd> watched;
    for (;;) {
        try {
            watched.assign(1, pollfd{listener, POLLIN, 0});
            for (const auto& connection : open) {
                watched.push_back(pollfd{connection.fd, connection.events, 0});
            }
            if (poll(watched.data(), watched.size(), poll_timeout_ms(open, Clock::now())) < 0 && errno != EINTR) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            const auto now = Clock::now();
            std::size_t kept = 0;
            for (std::size_t i = 0; i < open.size(); ++i) {
                if (advance(open[i], watched[i + 1].revents, now, handler)) {
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
                accept_one(listener, open, tls);
            }
        } catch (...) { // out of memory: the connections are as they were, try again shortly
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

} // namespace

std::variant<int, std::string> bind_http_listener(const std::string& where, const std::string& what)
{
    if (where.rfind("unix:", 0) == 0) {
        return bind_unix(where.substr(5), what);
    }
    return bind_tcp(where, what);
}

void serve_http_listener(int listener, HttpHandler handler, std::shared_ptr<const TlsServerContext> tls)
{
    std::thread([listener, handler = std::move(handler), tls = std::move(tls)] {
        serve(listener, handler, tls.get());
    }).detach();
}

} // namespace pam_oauth2
