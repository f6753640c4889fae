#pragma once

#include "fallible.hpp"
#include "redis_endpoint.hpp"
#include "redis_tls.hpp"
#include "unique_fd.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

using SSL = struct ssl_st;

namespace pam_oauth2::shared_cache {

/// Every wait of the shared cache ends by one of these (CLOCK_MONOTONIC).
using Deadline = std::chrono::steady_clock::time_point;

/// A connected byte stream to one Redis address, plain TCP or TLS, on a non-blocking socket: every
/// call returns by its deadline whatever the peer does (accepts and stays silent, trickles bytes,
/// is stopped). TLS writes may raise SIGPIPE on a closed peer: the process ignores it (pam_oauth2d
/// does at start).
class RedisStream {
public:
    /// Resolves and connects (each address in turn, non-blocking connect + poll), then the TLS
    /// handshake when `tls` is set, all by `deadline`. Name resolution is getaddrinfo(3) and is not
    /// bounded by the deadline: give IP literals where a resolver may hang.
    static Fallible<std::unique_ptr<RedisStream>>
    connect(const RedisHost& host, const std::shared_ptr<const TlsClientContext>& tls, Deadline deadline);
    ~RedisStream();
    RedisStream(const RedisStream&) = delete;
    RedisStream& operator=(const RedisStream&) = delete;

    /// Writes all of `bytes`.
    Fallible<bool> send_all(std::string_view bytes, Deadline deadline);
    /// Reads what is available (at least one byte) into `buffer`; the peer closing is a failure.
    Fallible<std::size_t> receive_some(char* buffer, std::size_t size, Deadline deadline);

private:
    RedisStream(UniqueFd fd, std::string peer) : fd_(std::move(fd)), peer_(std::move(peer)) {}
    Fallible<bool> start_tls(const RedisHost& host, Deadline deadline);
    Fallible<bool> wait_for_tls(int result, Deadline deadline, const char* what);

    UniqueFd fd_;
    std::string peer_;
    std::shared_ptr<const TlsClientContext> context_; ///< kept alive while ssl_ uses it
    SSL* ssl_ = nullptr;
};

} // namespace pam_oauth2::shared_cache
