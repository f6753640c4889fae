#pragma once

#include "fallible.hpp"

#include <memory>
#include <string>

using SSL_CTX = struct ssl_ctx_st;

namespace pam_oauth2::shared_cache {

/// TLS to a Redis server: the server's certificate must chain to `ca_file` (the system's trust
/// store when empty) and name the host of the endpoint (DNS name or IP address); a client
/// certificate and key are sent when both are given.
struct RedisTlsSettings {
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
};

/// An OpenSSL client context made once from RedisTlsSettings (CA, client certificate, TLS >= 1.2,
/// peer verification on) and shared by every connection: making one costs milliseconds (reading
/// the CA file), a connection must not pay it. Immutable once made, so safe across threads.
class TlsClientContext {
public:
    static Fallible<std::shared_ptr<const TlsClientContext>> create(const RedisTlsSettings& settings);
    ~TlsClientContext();
    TlsClientContext(const TlsClientContext&) = delete;
    TlsClientContext& operator=(const TlsClientContext&) = delete;

    [[nodiscard]] SSL_CTX* get() const { return context_; }

private:
    explicit TlsClientContext(SSL_CTX* context) : context_(context) {}
    SSL_CTX* context_;
};

/// OpenSSL's first queued error as text (and the queue cleared), for failure reasons.
std::string openssl_reason();

} // namespace pam_oauth2::shared_cache
