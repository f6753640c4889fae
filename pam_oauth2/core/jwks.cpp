#include "jwks.hpp"

#include "base64url.hpp"
#include "json.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

namespace pam_oauth2 {
namespace {

constexpr int minimum_rsa_bits = 2048;
// Nobody signs tokens with more; a bigger modulus would only make every verification slow.
constexpr int maximum_rsa_bits = 16384;

struct ParamBuildFree {
    void operator()(OSSL_PARAM_BLD* build) const { OSSL_PARAM_BLD_free(build); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct BignumFree {
    void operator()(BIGNUM* number) const { BN_free(number); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
};

using Bignum = std::unique_ptr<BIGNUM, BignumFree>;

std::optional<std::string> member_bytes(const nlohmann::json& jwk, const char* name)
{
    const auto text = string_member(jwk, name);
    if (!text) {
        return std::nullopt;
    }
    return base64url_decode(*text);
}

Bignum to_bignum(const std::string& big_endian)
{
    return Bignum(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                            static_cast<int>(big_endian.size()), nullptr));
}

std::shared_ptr<EVP_PKEY> from_params(const char* type, const OSSL_PARAM* params)
{
    const std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* key = nullptr;
    if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
        EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) != 1) {
        return nullptr;
    }
    return std::shared_ptr<EVP_PKEY>(key, EvpPkeyFree{});
}

std::variant<std::shared_ptr<EVP_PKEY>, std::string> rsa_key(const nlohmann::json& jwk)
{
    const auto n = member_bytes(jwk, "n");
    const auto e = member_bytes(jwk, "e");
    if (!n || !e || n->empty() || e->empty()) {
        return std::string("RSA key without valid n and e");
    }
    const Bignum modulus = to_bignum(*n);
    const Bignum exponent = to_bignum(*e);
    if (modulus && BN_num_bits(modulus.get()) > maximum_rsa_bits) {
        return std::string("RSA key longer than 16384 bits");
    }
    // An even or tiny public exponent is no RSA key anyone generates; e = 1 would verify anything.
    if (exponent && (!BN_is_odd(exponent.get()) || BN_cmp(exponent.get(), BN_value_one()) <= 0)) {
        return std::string("RSA key with an exponent that is not odd and at least 3");
    }
    const std::unique_ptr<OSSL_PARAM_BLD, ParamBuildFree> build(OSSL_PARAM_BLD_new());
    if (!modulus || !exponent || !build ||
        OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1) {
        return std::string("cannot build RSA key");
    }
    const std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(build.get()));
    auto key = params ? from_params("RSA", params.get()) : nullptr;
    if (!key) {
        return std::string("unusable RSA key");
    }
    if (EVP_PKEY_get_bits(key.get()) < minimum_rsa_bits) {
        return std::string("RSA key shorter than 2048 bits");
    }
    return key;
}

std::variant<std::shared_ptr<EVP_PKEY>, std::string> ec_key(const nlohmann::json& jwk, const std::string& crv)
{
    const char* group = nullptr;
    std::size_t coordinate_bytes = 0;
    if (crv == "P-256") {
        group = "prime256v1";
        coordinate_bytes = 32;
    } else if (crv == "P-384") {
        group = "secp384r1";
        coordinate_bytes = 48;
    } else if (crv == "P-521") {
        group = "secp521r1";
        coordinate_bytes = 66;
    } else {
        return "unsupported EC curve '" + crv + "'";
    }
    const auto x = member_bytes(jwk, "x");
    const auto y = member_bytes(jwk, "y");
    if (!x || !y || x->size() != coordinate_bytes || y->size() != coordinate_bytes) {
        return std::string("EC key with missing or wrongly sized x/y");
    }
    std::string point = "\x04" + *x + *y; // uncompressed SEC1 point
    const std::unique_ptr<OSSL_PARAM_BLD, ParamBuildFree> build(OSSL_PARAM_BLD_new());
    if (!build || OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
        return std::string("cannot build EC key");
    }
    const std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(build.get()));
    auto key = params ? from_params("EC", params.get()) : nullptr;
    if (!key) {
        return std::string("EC point is not on the curve");
    }
    // fromdata does not promise a full public key check; an invalid point must never verify anything.
    const std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
        return std::string("EC point is not on the curve");
    }
    return key;
}

std::variant<std::shared_ptr<EVP_PKEY>, std::string> okp_key(const nlohmann::json& jwk, const std::string& crv)
{
    if (crv != "Ed25519") {
        return "unsupported OKP curve '" + crv + "'";
    }
    const auto x = member_bytes(jwk, "x");
    if (!x || x->size() != 32) {
        return std::string("Ed25519 key with missing or wrongly sized x");
    }
    EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                reinterpret_cast<const unsigned char*>(x->data()), x->size());
    if (key == nullptr) {
        return std::string("unusable Ed25519 key");
    }
    return std::shared_ptr<EVP_PKEY>(key, EvpPkeyFree{});
}

std::variant<Jwk, std::string> build_jwk(const nlohmann::json& object)
{
    if (!object.is_object()) {
        return std::string("key is not a JSON object");
    }
    Jwk jwk;
    jwk.kty = string_member(object, "kty").value_or("");
    jwk.kid = string_member(object, "kid").value_or("");
    jwk.alg = string_member(object, "alg").value_or("");
    jwk.crv = string_member(object, "crv").value_or("");
    if (const auto use = string_member(object, "use"); use && *use != "sig") {
        return "key is for use '" + *use + "', not sig";
    }
    if (object.contains("d") || object.contains("k")) {
        // A private or symmetric key published in a JWKS is a provider misconfiguration; never use it.
        return std::string("private or symmetric key material in a JWKS");
    }
    std::variant<std::shared_ptr<EVP_PKEY>, std::string> key;
    if (jwk.kty == "RSA") {
        key = rsa_key(object);
    } else if (jwk.kty == "EC") {
        key = ec_key(object, jwk.crv);
    } else if (jwk.kty == "OKP") {
        key = okp_key(object, jwk.crv);
    } else {
        return "unsupported key type '" + jwk.kty + "'";
    }
    if (auto* problem = std::get_if<std::string>(&key)) {
        return *problem;
    }
    jwk.key = std::get<std::shared_ptr<EVP_PKEY>>(key);
    return jwk;
}

} // namespace

std::variant<Jwk, std::string> parse_jwk(const std::string& json_text)
{
    const auto object = parse_json_object(json_text);
    if (!object) {
        return std::string("key is not a JSON object");
    }
    return build_jwk(*object);
}

std::variant<std::vector<Jwk>, std::string> parse_jwks(std::string_view text)
{
    const auto document = parse_json_object(text);
    if (!document) {
        return std::string("JWKS is not a JSON object");
    }
    const auto keys = document->find("keys");
    if (keys == document->end() || !keys->is_array()) {
        return std::string("JWKS has no keys array");
    }
    if (keys->size() > max_jwks_keys) {
        return "JWKS holds " + std::to_string(keys->size()) + " keys, more than " + std::to_string(max_jwks_keys);
    }
    std::vector<Jwk> usable;
    for (const auto& entry : *keys) {
        auto jwk = build_jwk(entry);
        if (auto* key = std::get_if<Jwk>(&jwk)) {
            usable.push_back(std::move(*key));
        }
    }
    ERR_clear_error(); // skipped keys may have left OpenSSL errors behind
    if (usable.empty()) {
        return std::string("JWKS holds no usable signing key");
    }
    return usable;
}

} // namespace pam_oauth2
