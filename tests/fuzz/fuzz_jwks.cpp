// JWKS documents as an identity provider (or whoever answers in its place) might serve them.
#include "jwks.hpp"
#include "jws.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto parsed = pam_oauth2::parse_jwks(std::string_view(reinterpret_cast<const char*>(data), size));
    if (auto* keys = std::get_if<std::vector<pam_oauth2::Jwk>>(&parsed)) {
        for (const auto& key : *keys) {
            for (const char* alg : {"RS256", "PS384", "ES256", "ES512", "EdDSA"}) {
                if (!pam_oauth2::key_fits_algorithm(key, alg)) {
                    (void)pam_oauth2::verify_signature(alg, key, "input", "signature");
                }
            }
        }
    }
    return 0;
}
