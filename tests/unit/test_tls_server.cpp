// TLS on the logout endpoint: the server context's rules and a non-blocking session, driven against an
// OpenSSL client over a socketpair in one thread; the configuration keys and the key file's rules.
#include "daemon_config.hpp"
#include "logout_tls.hpp"
#include "temp_dir.hpp"
#include "tls_server.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

using namespace pam_oauth2;

namespace {

std::string pem_of(const std::function<int(BIO*)>& write)
{
    BIO* bio = BIO_new(BIO_s_mem());
    REQUIRE(write(bio) == 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return text;
}

// A P-256 key and a certificate for it, self-signed or signed by `issuer_key`/`issuer`.
struct TestCert {
    std::shared_ptr<EVP_PKEY> key;
    std::shared_ptr<X509> cert;
    std::string cert_pem;
    std::string key_pem;
};

TestCert make_cert(const char* name, const TestCert* issuer = nullptr)
{
    TestCert made;
    made.key.reset(EVP_EC_gen("P-256"), EVP_PKEY_free);
    made.cert.reset(X509_new(), X509_free);
    X509* cert = made.cert.get();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(name), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(issuer != nullptr ? issuer->cert.get() : cert));
    X509_set_pubkey(cert, made.key.get());
    REQUIRE(X509_sign(cert, issuer != nullptr ? issuer->key.get() : made.key.get(), EVP_sha256()) > 0);
    made.cert_pem = pem_of([&](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
    made.key_pem = pem_of(
        [&](BIO* bio) { return PEM_write_bio_PrivateKey(bio, made.key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    return made;
}

std::shared_ptr<const TlsServerContext> context_for(const TestCert& cert)
{
    auto made = TlsServerContext::create(cert.cert_pem, SecureString(cert.key_pem));
    REQUIRE(made.ok());
    return made.value();
}

// The two ends of a connection: fds[0] the server's, fds[1] the client's, both non-blocking.
struct SocketPair {
    int fds[2] = {-1, -1};
    SocketPair()
    {
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        for (const int fd : fds) {
            fcntl(fd, F_SETFL, O_NONBLOCK);
        }
        static_cast<void>(std::signal(SIGPIPE, SIG_IGN));
    }
    ~SocketPair()
    {
        close(fds[0]);
        close(fds[1]);
    }
    SocketPair(const SocketPair&) = delete;
    SocketPair& operator=(const SocketPair&) = delete;
};

// An OpenSSL client over fds[1]; `configure` narrows its context (protocol versions).
struct Client {
    std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> context{SSL_CTX_new(TLS_client_method()), SSL_CTX_free};
    std::unique_ptr<SSL, void (*)(SSL*)> ssl{nullptr, SSL_free};
    explicit Client(int fd, const std::function<void(SSL_CTX*)>& configure = {})
    {
        if (configure) {
            configure(context.get());
        }
        ssl.reset(SSL_new(context.get()));
        SSL_set_fd(ssl.get(), fd);
        SSL_set_connect_state(ssl.get());
    }
};

// Drives both handshakes until the server's is over or has failed; the server's last step.
TlsStep shake(TlsSession& server, Client& client)
{
    TlsStep step = TlsStep::WantRead;
    for (int round = 0; round < 50 && step != TlsStep::Done && step != TlsStep::Ended; ++round) {
        static_cast<void>(SSL_do_handshake(client.ssl.get()));
        step = server.handshake();
    }
    static_cast<void>(SSL_do_handshake(client.ssl.get())); // the client takes the server's last flight
    ERR_clear_error();
    return step;
}

} // namespace

TEST_CASE("the logout endpoint's TLS context: TLS 1.2 at least, no compression, renegotiation or resumption")
{
    const auto context = context_for(make_cert("localhost"));
    SSL_CTX* ctx = context->get();
    CHECK(SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION);
    const auto options = SSL_CTX_get_options(ctx);
    CHECK((options & SSL_OP_NO_COMPRESSION) != 0);
    CHECK((options & SSL_OP_NO_RENEGOTIATION) != 0);
    CHECK((options & SSL_OP_NO_TICKET) != 0);
    CHECK((options & SSL_OP_ALLOW_CLIENT_RENEGOTIATION) == 0);
    CHECK(SSL_CTX_get_session_cache_mode(ctx) == SSL_SESS_CACHE_OFF);
}

TEST_CASE("a TLS session over a non-blocking socket: handshake, request, answer, close_notify")
{
    const TestCert ca = make_cert("test CA");
    TestCert leaf = make_cert("localhost", &ca);
    leaf.cert_pem += ca.cert_pem; // the chain, leaf first
    const auto context = context_for(leaf);
    const SocketPair pair;
    const auto server = TlsSession::start(*context, pair.fds[0]);
    REQUIRE(server);

    Client client(pair.fds[1]);
    REQUIRE(shake(*server, client) == TlsStep::Done);
    CHECK(server->established());
    CHECK(SSL_get_current_compression(client.ssl.get()) == nullptr);
    const STACK_OF(X509)* chain = SSL_get_peer_cert_chain(client.ssl.get());
    REQUIRE(chain != nullptr);
    CHECK(sk_X509_num(chain) == 2); // the intermediate is served from the same file

    char buffer[64];
    CHECK(server->read(buffer, sizeof buffer).step == TlsStep::WantRead);
    REQUIRE(SSL_write(client.ssl.get(), "POST", 4) == 4);
    const auto got = server->read(buffer, sizeof buffer);
    REQUIRE(got.step == TlsStep::Done);
    CHECK(std::string(buffer, got.bytes) == "POST");
    const auto wrote = server->write("HTTP/1.0 200 OK\r\n\r\n", 19);
    CHECK(wrote.step == TlsStep::Done);
    CHECK(wrote.bytes == 19);
    server->close_notify();
    CHECK(SSL_read(client.ssl.get(), buffer, sizeof buffer) == 19);
    CHECK(SSL_read(client.ssl.get(), buffer, sizeof buffer) == 0);
    CHECK(SSL_get_error(client.ssl.get(), 0) == SSL_ERROR_ZERO_RETURN); // a clean close_notify
    ERR_clear_error();
}

TEST_CASE("a client that offers only TLS 1.1 or less gets no handshake")
{
    const auto context = context_for(make_cert("localhost"));
    const SocketPair pair;
    const auto server = TlsSession::start(*context, pair.fds[0]);
    REQUIRE(server);
    Client client(pair.fds[1], [](SSL_CTX* ctx) {
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
        SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    });
    CHECK(shake(*server, client) == TlsStep::Ended);
    CHECK_FALSE(server->established());
    char buffer[8];
    CHECK(server->read(buffer, sizeof buffer).step == TlsStep::Ended);
}

TEST_CASE("a client's renegotiation is refused")
{
    const auto context = context_for(make_cert("localhost"));
    const SocketPair pair;
    const auto server = TlsSession::start(*context, pair.fds[0]);
    REQUIRE(server);
    Client client(pair.fds[1], [](SSL_CTX* ctx) { SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION); });
    REQUIRE(shake(*server, client) == TlsStep::Done);
    REQUIRE(SSL_renegotiate(client.ssl.get()) == 1);
    char buffer[8];
    int result = 0;
    TlsStep step = TlsStep::WantRead;
    for (int round = 0; round < 20 && step != TlsStep::Ended; ++round) {
        result = SSL_do_handshake(client.ssl.get());
        step = server->read(buffer, sizeof buffer).step;
    }
    CHECK(step == TlsStep::Ended); // the server ends the connection rather than renegotiate
    CHECK(SSL_do_handshake(client.ssl.get()) != 1);
    CHECK(result != 1);
    ERR_clear_error();
}

TEST_CASE("certificate and key text that cannot serve is refused, naming neither's content")
{
    const TestCert one = make_cert("localhost");
    const TestCert other = make_cert("localhost");
    const auto error_of = [](const std::string& chain, const std::string& key) {
        auto made = TlsServerContext::create(chain, SecureString(key));
        return made.ok() ? std::string() : made.error();
    };
    CHECK(error_of("", one.key_pem).find("certificate file holds no PEM certificate") == 0);
    CHECK(error_of(one.key_pem, one.key_pem).find("holds no PEM certificate") != std::string::npos);
    CHECK(error_of(one.cert_pem, "").find("key file holds no unencrypted PEM private key") == 0);
    const std::string mismatch = error_of(one.cert_pem, other.key_pem);
    CHECK(mismatch.find("key file is not the certificate's private key") == 0);
    CHECK(mismatch.find("PRIVATE KEY") == std::string::npos);
    const std::string encrypted = pem_of([&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, one.key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                        const_cast<char*>("passphrase"));
    });
    REQUIRE(encrypted.find("ENCRYPTED") != std::string::npos);
    CHECK(error_of(one.cert_pem, encrypted).find("holds no unencrypted PEM private key") != std::string::npos);
}

TEST_CASE("the logout TLS keys: both or neither, read by the trusted opener, beyond loopback only with TLS")
{
    const pam_oauth2::testing::TempDir dir;
    const TestCert cert = make_cert("localhost");
    const std::string cert_path = dir.path + "/logout.pem";
    const std::string key_path = dir.path + "/logout.key";
    std::ofstream(cert_path) << cert.cert_pem;
    std::ofstream(key_path) << cert.key_pem;
    chmod(cert_path.c_str(), 0644);
    chmod(key_path.c_str(), 0600);
    const std::string path = dir.path + "/pam_oauth2d.conf";
    const auto load = [&](const std::string& text) {
        std::ofstream(path) << "allow_users = root\nallow_hosts = idp.example.com\n"
                               "logout_issuer = https://idp.example.com/r pam\n"
                            << text;
        chmod(path.c_str(), 0644);
        return load_daemon_config(path);
    };
    const auto error_of = [&](const std::string& text) {
        auto result = load(text);
        return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : std::string();
    };
    const std::string cert_line = "logout_tls_cert_file = " + cert_path + "\n";
    const std::string key_line = "logout_tls_key_file = " + key_path + "\n";
    CHECK(error_of("logout_listen = 127.0.0.1:9465\n" + cert_line).find("go together") != std::string::npos);
    CHECK(error_of("logout_listen = 127.0.0.1:9465\n" + key_line).find("go together") != std::string::npos);
    CHECK(error_of(cert_line + key_line).find("need logout_listen") != std::string::npos);
    CHECK(error_of("logout_listen = 192.0.2.1:9465\n").find("loopback HOST:PORT unless") != std::string::npos);
    CHECK(error_of("logout_listen = :9465\n" + cert_line + key_line).find("HOST:PORT") != std::string::npos);

    auto loaded = load("logout_listen = 0.0.0.0:9465\n" + cert_line + key_line);
    REQUIRE(std::holds_alternative<DaemonConfig>(loaded));
    const auto& config = std::get<DaemonConfig>(loaded);
    CHECK(config.logout_tls == nullptr); // read by load_logout_tls, at start only
    auto tls = load_logout_tls(config);
    REQUIRE(tls.ok());
    CHECK(tls.value() != nullptr);
    CHECK(load_logout_tls(default_daemon_config()).value() == nullptr);

    chmod(key_path.c_str(), 0640);
    auto readable = load_logout_tls(config);
    REQUIRE_FALSE(readable.ok());
    CHECK(readable.error().find("must not be readable by group or others") != std::string::npos);
    chmod(key_path.c_str(), 0600);
    chmod(cert_path.c_str(), 0666);
    auto writable = load_logout_tls(config);
    REQUIRE_FALSE(writable.ok());
    CHECK(writable.error().find(cert_path) != std::string::npos);
    chmod(cert_path.c_str(), 0644);
    const std::string link = dir.path + "/link.key";
    REQUIRE(symlink(key_path.c_str(), link.c_str()) == 0);
    DaemonConfig linked = config;
    linked.logout_tls_key_file = link;
    CHECK_FALSE(load_logout_tls(linked).ok());
}
