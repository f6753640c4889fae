#include "metrics_endpoint.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

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

void answer(int fd, const Metrics& metrics)
{
    // Read what the scraper sends (one request, no body), briefly; the answer does not depend on it.
    pollfd ready{fd, POLLIN, 0};
    char request[1024];
    if (poll(&ready, 1, 1000) == 1) {
        static_cast<void>(recv(fd, request, sizeof request, MSG_DONTWAIT));
    }
    const std::string body = metrics.text();
    const std::string response =
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    std::size_t sent = 0;
    while (sent < response.size()) {
        const ssize_t wrote = send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
        if (wrote <= 0) {
            break;
        }
        sent += static_cast<std::size_t>(wrote);
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
    std::thread([listener, &metrics] {
        for (;;) {
            const int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100)); // EMFILE and the like
                continue;
            }
            answer(fd, metrics);
            close(fd);
        }
    }).detach();
    return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint());
}

} // namespace pam_oauth2
