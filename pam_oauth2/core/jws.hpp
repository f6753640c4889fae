#pragma once

#include "jwks.hpp"
#include "secure_string.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

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

} // namespace pam_oauth2
