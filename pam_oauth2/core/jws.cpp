#include "jws.hpp"

#include "base64url.hpp"
#include "json.hpp"
#include "text.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <memory>

namespace pam_oauth2 {
namespace {

struct MdCtxFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct EcdsaSigFree {
    void operator()(ECDSA_SIG* signature) const { ECDSA_SIG_free(signature); }
};

enum class Family { Rsa, RsaPss, Ecdsa, EdDsa };

struct Algorithm {
    std::string_view name;
    Family family;
    const EVP_MD* (*digest)();
    std::string_view curve;           // for ECDSA: the only curve allowed with this alg
    std::size_t ecdsa_coordinate = 0; // bytes of r and of s in the JOSE signature
};

const EVP_MD* no_digest()
{
    return nullptr;
}

const Algorithm* find_algorithm(std::string_view name)
{
    static constexpr Algorithm table[] = {
        {"RS256", Family::Rsa, EVP_sha256, "", 0},         {"RS384", Family::Rsa, EVP_sha384, "", 0},
        {"RS512", Family::Rsa, EVP_sha512, "", 0},         {"PS256", Family::RsaPss, EVP_sha256, "", 0},
        {"PS384", Family::RsaPss, EVP_sha384, "", 0},      {"PS512", Family::RsaPss, EVP_sha512, "", 0},
        {"ES256", Family::Ecdsa, EVP_sha256, "P-256", 32}, {"ES384", Family::Ecdsa, EVP_sha384, "P-384", 48},
        {"ES512", Family::Ecdsa, EVP_sha512, "P-521", 66}, {"EdDSA", Family::EdDsa, no_digest, "Ed25519", 0},
    };
    for (const auto& algorithm : table) {
        if (algorithm.name == name) {
            return &algorithm;
        }
    }
    return nullptr;
}

// JOSE carries ECDSA signatures as fixed-size r || s; OpenSSL verifies DER.
std::optional<std::string> ecdsa_to_der(std::string_view raw, std::size_t coordinate)
{
    if (raw.size() != 2 * coordinate) {
        return std::nullopt;
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    std::unique_ptr<ECDSA_SIG, EcdsaSigFree> signature(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(coordinate), nullptr);
    BIGNUM* s = BN_bin2bn(bytes + coordinate, static_cast<int>(coordinate), nullptr);
    if (!signature || r == nullptr || s == nullptr || ECDSA_SIG_set0(signature.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return std::nullopt;
    }
    unsigned char* der = nullptr;
    const int length = i2d_ECDSA_SIG(signature.get(), &der);
    if (length <= 0) {
        return std::nullopt;
    }
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
    OPENSSL_clear_free(der, static_cast<std::size_t>(length));
    return out;
}

} // namespace

std::variant<CompactJws, std::string> parse_compact_jws(std::string_view token)
{
    const auto first = token.find('.');
    const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
        return std::string("not three dot-separated segments");
    }
    auto header_text = base64url_decode(token.substr(0, first));
    auto payload_text = base64url_decode(token.substr(first + 1, second - first - 1));
    auto signature = base64url_decode(token.substr(second + 1));
    std::string empty;
    const WipeOnExit<std::string> wipe_signature(signature ? *signature : empty);
    const WipeOnExit<std::string> wipe_header(header_text ? *header_text : empty);
    const WipeOnExit<std::string> wipe_payload(payload_text ? *payload_text : empty);
    if (!header_text || !payload_text || !signature) {
        return std::string("a segment is not valid base64url");
    }
    auto header = parse_json_object(*header_text);
    if (!header) {
        return std::string("header is not a JSON object");
    }
    auto payload = parse_json_object(*payload_text);
    if (!payload) {
        return std::string("payload is not a JSON object");
    }
    CompactJws jws;
    jws.header = std::move(*header);
    jws.payload = std::move(*payload);
    jws.signing_input = token.substr(0, second);
    jws.signature = SecureString(*signature);
    return jws;
}

bool is_supported_algorithm(std::string_view alg)
{
    return find_algorithm(alg) != nullptr;
}

std::optional<std::string> key_fits_algorithm(const Jwk& key, std::string_view alg)
{
    const Algorithm* algorithm = find_algorithm(alg);
    if (algorithm == nullptr) {
        return "unsupported alg " + log_safe(alg);
    }
    if (!key.alg.empty() && key.alg != alg) {
        return "key " + log_safe(key.kid) + " is pinned to alg " + log_safe(key.alg) + ", token says " + log_safe(alg);
    }
    bool fits = false;
    switch (algorithm->family) {
    case Family::Rsa:
    case Family::RsaPss: fits = key.kty == "RSA"; break;
    case Family::Ecdsa:
    case Family::EdDsa: fits = (key.kty == "EC" || key.kty == "OKP") && key.crv == algorithm->curve; break;
    }
    if (!fits) {
        return "key " + log_safe(key.kid) + " (" + log_safe(key.kty) +
               (key.crv.empty() ? "" : " " + log_safe(key.crv)) + ") does not fit alg " + log_safe(alg);
    }
    return std::nullopt;
}

std::optional<std::string> verify_signature(std::string_view alg, const Jwk& key, std::string_view signing_input,
                                            std::string_view signature)
{
    const Algorithm* algorithm = find_algorithm(alg);
    if (algorithm == nullptr || !key.key) {
        return std::string("unsupported alg or key");
    }
    std::string der;
    std::string_view to_check = signature;
    if (algorithm->family == Family::Ecdsa) {
        auto converted = ecdsa_to_der(signature, algorithm->ecdsa_coordinate);
        if (!converted) {
            return std::string("ECDSA signature has the wrong length");
        }
        der = std::move(*converted);
        to_check = der;
    }
    const std::unique_ptr<EVP_MD_CTX, MdCtxFree> context(EVP_MD_CTX_new());
    EVP_PKEY_CTX* key_context = nullptr;
    if (!context ||
        EVP_DigestVerifyInit(context.get(), &key_context, algorithm->digest(), nullptr, key.key.get()) != 1) {
        return std::string("cannot set up signature verification");
    }
    if (algorithm->family == Family::RsaPss &&
        (EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(key_context, algorithm->digest()) != 1)) {
        return std::string("cannot set up RSA-PSS verification");
    }
    const WipeOnExit<std::string> wipe_der(der);
    const int verified =
        EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(to_check.data()), to_check.size(),
                         reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
    if (verified != 1) {
        // Leave no failure behind in OpenSSL's per-thread error queue of a long-lived host process.
        ERR_clear_error();
        return std::string("signature does not verify");
    }
    return std::nullopt;
}

std::vector<const Jwk*> signing_candidates(const std::vector<Jwk>& keys, const std::optional<std::string>& kid,
                                           std::string_view alg)
{
    std::vector<const Jwk*> found;
    for (const auto& key : keys) {
        if (kid ? key.kid == *kid : !key_fits_algorithm(key, alg).has_value()) {
            found.push_back(&key);
        }
    }
    return found;
}

SignatureCheck verify_with_any(const CompactJws& jws, const std::vector<const Jwk*>& candidates, std::string_view alg)
{
    SignatureCheck check{nullptr, "no key in the issuer's JWKS fits alg " + log_safe(alg)};
    for (const Jwk* key : candidates) {
        auto problem = key_fits_algorithm(*key, alg);
        if (!problem) {
            problem = verify_signature(alg, *key, jws.signing_input, jws.signature.view());
        }
        if (!problem) {
            check.key = key;
            return check;
        }
        check.problem = std::move(*problem);
    }
    return check;
}

} // namespace pam_oauth2
