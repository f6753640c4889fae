#include "pkce.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <vector>

namespace pam_oauth2::token {
namespace {

unsigned byte(char c)
{
    return static_cast<unsigned char>(c);
}

} // namespace

std::string base64url_encode(std::string_view bytes)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned group = (byte(bytes[i]) << 16U) | (byte(bytes[i + 1]) << 8U) | byte(bytes[i + 2]);
        out += alphabet[(group >> 18U) & 63U];
        out += alphabet[(group >> 12U) & 63U];
        out += alphabet[(group >> 6U) & 63U];
        out += alphabet[group & 63U];
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        unsigned group = byte(bytes[i]) << 16U;
        if (rest == 2) {
            group |= byte(bytes[i + 1]) << 8U;
        }
        out += alphabet[(group >> 18U) & 63U];
        out += alphabet[(group >> 12U) & 63U];
        if (rest == 2) {
            out += alphabet[(group >> 6U) & 63U];
        }
    }
    return out;
}

std::optional<std::string> random_base64url(std::size_t bytes)
{
    std::vector<unsigned char> random(bytes);
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
        return std::nullopt;
    }
    std::string encoded = base64url_encode(std::string_view(reinterpret_cast<const char*>(random.data()), bytes));
    OPENSSL_cleanse(random.data(), random.size());
    return encoded;
}

std::string s256_challenge(std::string_view verifier)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::optional<Pkce> make_pkce()
{
    // 32 bytes: 256 bits of entropy, the 43-character verifier RFC 7636 section 4.1 recommends.
    auto verifier = random_base64url(32);
    if (!verifier) {
        return std::nullopt;
    }
    const pam_oauth2::WipeOnExit wipe(*verifier); // the plain copy goes once the Pkce holds its own
    return Pkce{SecureString(*verifier), s256_challenge(*verifier)};
}

} // namespace pam_oauth2::token
