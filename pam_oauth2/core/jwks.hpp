#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

struct EvpPkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

// One public signing key of a JWKS (RFC 7517), already turned into an OpenSSL key.
struct Jwk {
    std::string kid; // empty when the JWK has none
    std::string kty; // RSA, EC or OKP
    std::string alg; // empty when the JWK does not pin one
    std::string crv; // P-256/P-384/P-521/Ed25519 for EC and OKP
    std::shared_ptr<EVP_PKEY> key;
};

/// A JWKS document may hold at most this many keys; more is refused as hostile.
constexpr std::size_t max_jwks_keys = 64;

/// Parses a JWKS document. Keys that cannot sign tokens for us (use other than "sig", private or
/// symmetric keys, unknown kty or curve, RSA under 2048 or over 16384 bits or with an exponent that is
/// not odd and at least 3, EC points off the curve) are skipped;
/// a document with no usable key, or that is not a JWKS at all, gives the reason instead.
std::variant<std::vector<Jwk>, std::string> parse_jwks(std::string_view text);

/// Builds the key of one JWK object; the reason when it is unusable.
std::variant<Jwk, std::string> parse_jwk(const std::string& json_text);

} // namespace pam_oauth2
