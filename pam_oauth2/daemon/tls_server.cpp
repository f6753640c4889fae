#include "tls_server.hpp"

#include "redis_tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <climits>

namespace pam_oauth2 {
namespace {

using shared_cache::openssl_reason;

// An encrypted key would make OpenSSL ask for a passphrase on the terminal: refuse it instead.
int no_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*data*/)
{
    return 0;
}

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

Bio memory_bio(std::string_view text)
{
    return Bio(text.size() > INT_MAX ? nullptr : BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The leaf certificate, then every further certificate in the text as its chain.
Fallible<bool> use_chain(SSL_CTX* context, std::string_view chain_pem)
{
    const Bio bio = memory_bio(chain_pem);
    X509* leaf = bio ? PEM_read_bio_X509_AUX(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
    if (leaf == nullptr) {
        return Failure{"holds no PEM certificate: " + openssl_reason()};
    }
    const int used = SSL_CTX_use_certificate(context, leaf);
    X509_free(leaf);
    if (used != 1) {
        return Failure{"certificate cannot be used: " + openssl_reason()};
    }
    while (X509* next = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
        if (SSL_CTX_add0_chain_cert(context, next) != 1) { // takes `next` only on success
            X509_free(next);
            return Failure{"chain certificate cannot be used: " + openssl_reason()};
        }
    }
    ERR_clear_error(); // the end of the text reads as "no start line"
    return true;
}

Fallible<bool> use_key(SSL_CTX* context, const SecureString& key_pem)
{
    const Bio bio = memory_bio(key_pem.view());
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
    if (key == nullptr) {
        return Failure{"holds no unencrypted PEM private key: " + openssl_reason()};
    }
    const int used = SSL_CTX_use_PrivateKey(context, key);
    EVP_PKEY_free(key);
    if (used != 1 || SSL_CTX_check_private_key(context) != 1) {
        return Failure{"is not the certificate's private key: " + openssl_reason()};
    }
    return true;
}

Fallible<bool> harden(SSL_CTX* context)
{
    if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) {
        return Failure{"cannot require TLS 1.2: " + openssl_reason()};
    }
    SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                     SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(context, 0);
    // Writes behave like send(): a partial write says how much went, the rest is offered again later.
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr); // the logout token is what is authenticated
    return true;
}

} // namespace

Fallible<std::shared_ptr<const TlsServerContext>> TlsServerContext::create(std::string_view chain_pem,
                                                                           const SecureString& key_pem)
{
    ERR_clear_error();
    SSL_CTX* context = SSL_CTX_new(TLS_server_method());
    if (context == nullptr) {
        return Failure{"cannot create a TLS context: " + openssl_reason()};
    }
    std::shared_ptr<const TlsServerContext> made(new TlsServerContext(context));
    if (auto hardened = harden(context); !hardened.ok()) {
        return Failure{hardened.error()};
    }
    if (auto chain = use_chain(context, chain_pem); !chain.ok()) {
        return Failure{"certificate file " + chain.error()};
    }
    if (auto key = use_key(context, key_pem); !key.ok()) {
        return Failure{"key file " + key.error()};
    }
    return made;
}

TlsServerContext::~TlsServerContext()
{
    SSL_CTX_free(context_);
}

std::unique_ptr<TlsSession> TlsSession::start(const TlsServerContext& context, int fd)
{
    SSL* ssl = SSL_new(context.get());
    if (ssl == nullptr) {
        ERR_clear_error();
        return nullptr;
    }
    std::unique_ptr<TlsSession> session(new TlsSession(ssl));
    if (SSL_set_fd(ssl, fd) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    SSL_set_accept_state(ssl);
    return session;
}

TlsSession::~TlsSession()
{
    SSL_free(ssl_);
}

TlsStep TlsSession::classify(int result)
{
    const int error = SSL_get_error(ssl_, result);
    ERR_clear_error(); // the queue is per thread and shared by every connection of the listener
    switch (error) {
    case SSL_ERROR_WANT_READ: return TlsStep::WantRead;
    case SSL_ERROR_WANT_WRITE: return TlsStep::WantWrite;
    default: closed_ = true; return TlsStep::Ended; // a failed session sends nothing more
    }
}

TlsStep TlsSession::handshake()
{
    if (established_) {
        return TlsStep::Done;
    }
    ERR_clear_error();
    const int result = SSL_do_handshake(ssl_);
    if (result == 1) {
        established_ = true;
        return TlsStep::Done;
    }
    return classify(result);
}

TlsTransfer TlsSession::read(char* buffer, std::size_t size)
{
    ERR_clear_error();
    std::size_t got = 0;
    if (SSL_read_ex(ssl_, buffer, size, &got) == 1) {
        return {TlsStep::Done, got};
    }
    return {classify(0), 0};
}

TlsTransfer TlsSession::write(const char* data, std::size_t size)
{
    ERR_clear_error();
    std::size_t wrote = 0;
    if (SSL_write_ex(ssl_, data, size, &wrote) == 1) {
        return {TlsStep::Done, wrote};
    }
    return {classify(0), 0};
}

void TlsSession::close_notify()
{
    if (!closed_ && established_) {
        closed_ = true;
        ERR_clear_error();
        static_cast<void>(SSL_shutdown(ssl_));
        ERR_clear_error();
    }
}

} // namespace pam_oauth2
