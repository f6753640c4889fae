#include "redis_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace pam_oauth2::shared_cache {
namespace {

Fallible<bool> configure(SSL_CTX* context, const RedisTlsSettings& tls)
{
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) {
        return Failure{"cannot require TLS 1.2: " + openssl_reason()};
    }
    const int trusted = tls.ca_file.empty() ? SSL_CTX_set_default_verify_paths(context)
                                            : SSL_CTX_load_verify_locations(context, tls.ca_file.c_str(), nullptr);
    if (trusted != 1) {
        return Failure{"cannot read the CA file '" + tls.ca_file + "': " + openssl_reason()};
    }
    if (tls.cert_file.empty() != tls.key_file.empty()) {
        return Failure{"a client certificate needs both its certificate and its key file"};
    }
    if (!tls.cert_file.empty() && (SSL_CTX_use_certificate_chain_file(context, tls.cert_file.c_str()) != 1 ||
                                   SSL_CTX_use_PrivateKey_file(context, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
                                   SSL_CTX_check_private_key(context) != 1)) {
        return Failure{"cannot use the client certificate '" + tls.cert_file + "' and key '" + tls.key_file +
                       "': " + openssl_reason()};
    }
    return true;
}

} // namespace

std::string openssl_reason()
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) {
        return "no OpenSSL reason";
    }
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

Fallible<std::shared_ptr<const TlsClientContext>> TlsClientContext::create(const RedisTlsSettings& settings)
{
    ERR_clear_error();
    SSL_CTX* context = SSL_CTX_new(TLS_client_method());
    if (context == nullptr) {
        return Failure{"cannot create a TLS context: " + openssl_reason()};
    }
    std::shared_ptr<const TlsClientContext> made(new TlsClientContext(context));
    auto configured = configure(context, settings);
    if (!configured.ok()) {
        return Failure{"shared cache TLS: " + configured.error()};
    }
    return made;
}

TlsClientContext::~TlsClientContext()
{
    SSL_CTX_free(context_);
}

} // namespace pam_oauth2::shared_cache
