#include "base64url.hpp"

#include "secure_string.hpp"

#include <openssl/evp.h>

#include <vector>

namespace pam_oauth2 {
namespace {

int alphabet_index(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

} // namespace

std::optional<std::string> base64url_decode(std::string_view text)
{
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    // Translate to the standard alphabet and pad, then let OpenSSL decode; we only add the strictness
    // (alphabet, trailing bits) that EVP_DecodeBlock does not enforce.
    // Both buffers below hold the secret in some form while a signature segment is decoded.
    std::string standard;
    standard.reserve(text.size() + 3);
    const WipeOnExit<std::string> wipe_standard(standard);
    for (const char c : text) {
        if (alphabet_index(c) < 0) {
            return std::nullopt;
        }
        standard += c == '-' ? '+' : c == '_' ? '/' : c;
    }
    const std::size_t remainder = text.size() % 4;
    if (remainder != 0) {
        const int last = alphabet_index(text.back());
        const int unused_bits_mask = remainder == 2 ? 0x0f : 0x03;
        if ((last & unused_bits_mask) != 0) {
            return std::nullopt;
        }
        standard.append(4 - remainder, '=');
    }
    if (standard.empty()) {
        return std::string();
    }
    std::vector<unsigned char> out(standard.size() / 4 * 3);
    const WipeOnExit<std::vector<unsigned char>> wipe_out(out);
    const int written = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(standard.data()),
                                        static_cast<int>(standard.size()));
    if (written < 0) {
        return std::nullopt;
    }
    const std::size_t padding = remainder == 0 ? 0 : 4 - remainder;
    return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(written) - padding);
}

} // namespace pam_oauth2
