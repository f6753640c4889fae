#pragma once

#include "jwks.hpp"
#include "secure_string.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

// A compact JWS split and decoded, not yet verified.
// NOLINTNEXTLINE(bugprone-exception-escape): json's special members do not throw; the check cannot see it.
struct CompactJws {
    nlohmann::json header;
    nlohmann::json payload;
    std::string_view signing_input; // header.payload, as signed (a view into the token)
    SecureString signature;         // with the two other segments it is the bearer token: wiped like it
};

/// Splits a compact JWS into exactly three segments, decodes each strictly, and requires the
/// header and payload to be JSON objects. The reason on failure (never quoting the token).
std::variant<CompactJws, std::string> parse_compact_jws(std::string_view token);

/// True for the asymmetric JWS algorithms this module implements (RS*, PS*, ES*, EdDSA).
bool is_supported_algorithm(std::string_view alg);

/// Whether `key` may be used with `alg`: key type and curve fit, and the JWK's own alg agrees.
std::optional<std::string> key_fits_algorithm(const Jwk& key, std::string_view alg);

/// Verifies `signature` over `signing_input` with `key` under `alg` (OpenSSL EVP). Returns nullopt
/// when it verifies, otherwise the reason. Callers check key_fits_algorithm first.
std::optional<std::string> verify_signature(std::string_view alg, const Jwk& key, std::string_view signing_input,
                                            std::string_view signature);

/// The keys a JWS may be checked with: the one its kid names, or every key fitting alg when it names
/// none. Keys come only from the issuer's JWKS: jku, x5u, jwk and x5c in a header are never used.
std::vector<const Jwk*> signing_candidates(const std::vector<Jwk>& keys, const std::optional<std::string>& kid,
                                           std::string_view alg);

// Which key verified a JWS, or why none did.
struct SignatureCheck {
    const Jwk* key = nullptr; // the key that verified it; nullptr when none did
    std::string problem;      // the last candidate's problem when none did
};

/// Verifies `jws` under `alg` with the first of `candidates` that fits it and verifies.
SignatureCheck verify_with_any(const CompactJws& jws, const std::vector<const Jwk*>& candidates, std::string_view alg);

} // namespace pam_oauth2
