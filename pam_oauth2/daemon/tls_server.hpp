#pragma once

#include "fallible.hpp"
#include "secure_string.hpp"

#include <cstddef>
#include <memory>
#include <string_view>

using SSL_CTX = struct ssl_ctx_st;
using SSL = struct ssl_st;

namespace pam_oauth2 {

// The server side of TLS for one of the daemon's small HTTP endpoints: TLS 1.2 or later, no
// compression, no renegotiation (a client could make the server redo the costly part at will), no
// session resumption (nothing kept between connections). Made once, immutable, shared by every
// connection of the listener.
class TlsServerContext {
public:
    /// A context serving the certificate chain `chain_pem` (leaf first, then intermediates) with the
    /// unencrypted private key `key_pem`; the failure names neither's content, only what is wrong.
    static Fallible<std::shared_ptr<const TlsServerContext>> create(std::string_view chain_pem,
                                                                    const SecureString& key_pem);
    ~TlsServerContext();
    TlsServerContext(const TlsServerContext&) = delete;
    TlsServerContext& operator=(const TlsServerContext&) = delete;

    [[nodiscard]] SSL_CTX* get() const { return context_; }

private:
    explicit TlsServerContext(SSL_CTX* context) : context_(context) {}
    SSL_CTX* context_;
};

// What a non-blocking TLS step came to.
enum class TlsStep {
    Done,      // the handshake is over, or `bytes` moved
    WantRead,  // wait until the socket is readable, then call again
    WantWrite, // wait until the socket is writable, then call again
    Ended,     // the peer closed, or TLS failed: the connection is over
};

struct TlsTransfer {
    TlsStep step;
    std::size_t bytes = 0;
};

// One accepted connection's TLS over a non-blocking socket it does not own (the caller closes the
// fd after this is gone). Every call returns at once, so one peer that stalls mid-handshake holds up
// nobody; the caller bounds how long it is given.
class TlsSession {
public:
    /// The session for `fd`, or nullptr when OpenSSL cannot make one (out of memory).
    static std::unique_ptr<TlsSession> start(const TlsServerContext& context, int fd);
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    /// Advances the handshake; `Done` once it is over (and from then on).
    TlsStep handshake();
    [[nodiscard]] bool established() const { return established_; }
    /// Reads application bytes into `buffer`.
    TlsTransfer read(char* buffer, std::size_t size);
    /// Writes application bytes from `data` (a partial write says how much went).
    TlsTransfer write(const char* data, std::size_t size);
    /// Sends close_notify, once, without waiting for the peer's.
    void close_notify();

private:
    explicit TlsSession(SSL* ssl) : ssl_(ssl) {}
    TlsStep classify(int result);
    SSL* ssl_;
    bool established_ = false;
    bool closed_ = false;
};

} // namespace pam_oauth2
