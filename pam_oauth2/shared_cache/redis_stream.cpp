#include "redis_stream.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pam_oauth2::shared_cache {
namespace {

// Waits until `fd` is ready for `events`, or fails at the deadline.
Fallible<bool> wait_ready(int fd, short events, Deadline deadline, const std::string& what)
{
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            return Failure{what + ": no answer within the time budget"};
        }
        pollfd ready{fd, events, 0};
        const int count = ::poll(&ready, 1, static_cast<int>(std::min<long long>(left, 60000)));
        if (count > 0) {
            return true;
        }
        if (count < 0 && errno != EINTR) {
            return Failure{what + ": poll: " + std::strerror(errno)};
        }
    }
}

// One address: a non-blocking socket and its connect, finished by poll.
Fallible<UniqueFd> connect_address(const addrinfo& address, Deadline deadline, const std::string& what)
{
    UniqueFd fd(::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address.ai_protocol));
    if (fd.get() < 0) {
        return Failure{what + ": socket: " + std::strerror(errno)};
    }
    if (::connect(fd.get(), address.ai_addr, address.ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            return Failure{what + ": connect: " + std::strerror(errno)};
        }
        auto ready = wait_ready(fd.get(), POLLOUT, deadline, what + ": connect");
        if (!ready.ok()) {
            return Failure{ready.error()};
        }
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
            return Failure{what + ": connect: " + std::strerror(error != 0 ? error : errno)};
        }
    }
    const int on = 1;
    static_cast<void>(::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on));
    return fd;
}

bool is_ip_literal(const std::string& host)
{
    in6_addr address{};
    return inet_pton(AF_INET, host.c_str(), &address) == 1 || inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// SNI for a name, and the certificate must name the host: DNS name or IP address.
Fallible<bool> configure_peer(SSL* ssl, const std::string& host)
{
    if (is_ip_literal(host)) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) {
            return Failure{"cannot set the expected address: " + openssl_reason()};
        }
        return true;
    }
    // SSL_set_tlsext_host_name, spelled out: the macro's C cast is an error here.
    if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str())) != 1 ||
        SSL_set1_host(ssl, host.c_str()) != 1) {
        return Failure{"cannot set the expected host name: " + openssl_reason()};
    }
    return true;
}

} // namespace

Fallible<std::unique_ptr<RedisStream>>
RedisStream::connect(const RedisHost& host, const std::shared_ptr<const TlsClientContext>& tls, Deadline deadline)
{
    const std::string what = "redis " + display(host);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(host.port);
    const int resolved = ::getaddrinfo(host.host.c_str(), port.c_str(), &hints, &found);
    if (resolved != 0) {
        return Failure{what + ": cannot resolve: " + gai_strerror(resolved)};
    }
    const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
    std::string last = what + ": no address";
    for (const addrinfo* address = found; address != nullptr; address = address->ai_next) {
        auto fd = connect_address(*address, deadline, what);
        if (!fd.ok()) {
            last = fd.error();
            continue;
        }
        std::unique_ptr<RedisStream> stream(new RedisStream(std::move(fd).value(), what));
        if (tls) {
            stream->context_ = tls;
            auto started = stream->start_tls(host, deadline);
            if (!started.ok()) {
                return Failure{started.error()};
            }
        }
        return stream;
    }
    return Failure{last};
}

RedisStream::~RedisStream()
{
    if (ssl_ != nullptr) {
        SSL_free(ssl_);
    }
}

// After an SSL_* call that returned `result`: waits for what OpenSSL asks for, or fails.
Fallible<bool> RedisStream::wait_for_tls(int result, Deadline deadline, const char* what)
{
    const int error = SSL_get_error(ssl_, result);
    if (error == SSL_ERROR_WANT_READ) {
        return wait_ready(fd_.get(), POLLIN, deadline, peer_ + ": TLS " + what);
    }
    if (error == SSL_ERROR_WANT_WRITE) {
        return wait_ready(fd_.get(), POLLOUT, deadline, peer_ + ": TLS " + what);
    }
    if (error == SSL_ERROR_ZERO_RETURN) {
        return Failure{peer_ + ": the server closed the TLS connection"};
    }
    const long verified = SSL_get_verify_result(ssl_);
    if (verified != X509_V_OK) {
        return Failure{peer_ + ": TLS " + what +
                       ": the server's certificate is refused: " + X509_verify_cert_error_string(verified)};
    }
    const int saved = errno;
    const std::string reason = openssl_reason();
    return Failure{peer_ + ": TLS " + what + " failed: " +
                   (error == SSL_ERROR_SYSCALL && saved != 0 ? std::string(std::strerror(saved)) : reason)};
}

Fallible<bool> RedisStream::start_tls(const RedisHost& host, Deadline deadline)
{
    ERR_clear_error();
    ssl_ = SSL_new(context_->get());
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_.get()) != 1) {
        return Failure{peer_ + ": cannot create a TLS connection: " + openssl_reason()};
    }
    auto named = configure_peer(ssl_, host.host);
    if (!named.ok()) {
        return Failure{peer_ + ": " + named.error()};
    }
    for (;;) {
        const int result = SSL_connect(ssl_);
        if (result == 1) {
            return true;
        }
        auto waited = wait_for_tls(result, deadline, "handshake");
        if (!waited.ok()) {
            return waited;
        }
    }
}

Fallible<bool> RedisStream::send_all(std::string_view bytes, Deadline deadline)
{
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return Failure{peer_ + ": could not send within the time budget"};
        }
        if (ssl_ != nullptr) {
            ERR_clear_error();
            std::size_t wrote = 0;
            const int result = SSL_write_ex(ssl_, bytes.data() + sent, bytes.size() - sent, &wrote);
            if (result == 1) {
                sent += wrote;
                continue;
            }
            auto waited = wait_for_tls(result, deadline, "write");
            if (!waited.ok()) {
                return waited;
            }
            continue;
        }
        const ssize_t wrote = ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (wrote >= 0) {
            sent += static_cast<std::size_t>(wrote);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            auto waited = wait_ready(fd_.get(), POLLOUT, deadline, peer_ + ": send");
            if (!waited.ok()) {
                return waited;
            }
        } else if (errno != EINTR) {
            return Failure{peer_ + ": send: " + std::strerror(errno)};
        }
    }
    return true;
}

Fallible<std::size_t> RedisStream::receive_some(char* buffer, std::size_t size, Deadline deadline)
{
    for (;;) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return Failure{peer_ + ": no answer within the time budget"};
        }
        if (ssl_ != nullptr) {
            ERR_clear_error();
            std::size_t got = 0;
            const int result = SSL_read_ex(ssl_, buffer, size, &got);
            if (result == 1) {
                return got;
            }
            auto waited = wait_for_tls(result, deadline, "read");
            if (!waited.ok()) {
                return Failure{waited.error()};
            }
            continue;
        }
        const ssize_t got = ::recv(fd_.get(), buffer, size, 0);
        if (got > 0) {
            return static_cast<std::size_t>(got);
        }
        if (got == 0) {
            return Failure{peer_ + ": the server closed the connection"};
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            auto waited = wait_ready(fd_.get(), POLLIN, deadline, peer_);
            if (!waited.ok()) {
                return Failure{waited.error()};
            }
        } else if (errno != EINTR) {
            return Failure{peer_ + ": recv: " + std::strerror(errno)};
        }
    }
}

} // namespace pam_oauth2::shared_cache
