// JWS split, strict base64url and the header/payload JSON, then the whole jwt verifier against a
// fixed key so that signature and claim paths are reached too.
#include "base64url.hpp"
#include "configuration.hpp"
#include "jws.hpp"
#include "jwt_verifier.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

class NoKeys final : public pam_oauth2::KeySource {
public:
    pam_oauth2::KeySet keys(bool) override
    {
        pam_oauth2::KeySet set;
        auto key = pam_oauth2::parse_jwk(
            R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})");
        if (auto* jwk = std::get_if<pam_oauth2::Jwk>(&key)) {
            set.keys.push_back(*jwk);
        }
        return set;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view token(reinterpret_cast<const char*>(data), size);
    (void)pam_oauth2::base64url_decode(token);
    auto parsed = pam_oauth2::parse_compact_jws(token);
    (void)parsed;
    pam_oauth2::Settings options;
    options.token.issuer = "joe";
    NoKeys keys;
    pam_oauth2::JwtVerifier verifier(options.jwt, keys);
    const pam_oauth2::SecureString secret(token);
    const pam_oauth2::PresentedToken presented(secret);
    if (verifier.applies_to(presented)) {
        (void)verifier.verify(presented);
    }
    return 0;
}
