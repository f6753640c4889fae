#pragma once

// Test-only JOSE helpers: keys generated at test time for every algorithm, their public JWKs, and
// compact JWS signing, so the verifier is checked against signatures it did not make itself.
#include "jwks.hpp"

#include <nlohmann/json.hpp>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pam_oauth2::testing {

inline std::string base64url(std::string_view bytes)
{
    std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
    const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    std::string text(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
    while (!text.empty() && text.back() == '=') {
        text.pop_back();
    }
    for (auto& c : text) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return text;
}

struct TestKey {
    std::string alg;
    std::string kid;
    std::shared_ptr<EVP_PKEY> key;
    nlohmann::json jwk; // public part only
};

inline std::string bn_param(EVP_PKEY* key, const char* name, std::size_t pad_to = 0)
{
    BIGNUM* number = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &number) != 1) {
        throw std::runtime_error("bn param");
    }
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(number)), '\0');
    BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(number);
    if (bytes.size() < pad_to) {
        bytes.insert(0, pad_to - bytes.size(), '\0');
    }
    return bytes;
}

inline TestKey make_key(const std::string& alg, const std::string& kid)
{
    TestKey test{alg, kid, nullptr, nlohmann::json::object()};
    EVP_PKEY* key = nullptr;
    const char family = alg[0];
    if (family == 'R' || family == 'P') {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    } else if (alg == "ES256" || alg == "ES384" || alg == "ES512") {
        const char* curve = alg == "ES256" ? "P-256" : alg == "ES384" ? "P-384" : "P-521";
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
    } else if (alg == "EdDSA") {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    }
    if (key == nullptr) {
        throw std::runtime_error("keygen " + alg);
    }
    test.key.reset(key, EVP_PKEY_free);
    test.jwk["kid"] = kid;
    test.jwk["use"] = "sig";
    if (family == 'R' || family == 'P') {
        test.jwk["kty"] = "RSA";
        test.jwk["n"] = base64url(bn_param(key, OSSL_PKEY_PARAM_RSA_N));
        test.jwk["e"] = base64url(bn_param(key, OSSL_PKEY_PARAM_RSA_E));
    } else if (family == 'E' && alg != "EdDSA") {
        const std::size_t size = alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66;
        test.jwk["kty"] = "EC";
        test.jwk["crv"] = alg == "ES256" ? "P-256" : alg == "ES384" ? "P-384" : "P-521";
        test.jwk["x"] = base64url(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, size));
        test.jwk["y"] = base64url(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, size));
    } else {
        std::string raw(32, '\0');
        std::size_t length = raw.size();
        EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &length);
        test.jwk["kty"] = "OKP";
        test.jwk["crv"] = "Ed25519";
        test.jwk["x"] = base64url(raw);
    }
    return test;
}

inline const EVP_MD* digest_for(const std::string& alg)
{
    if (alg == "EdDSA") {
        return nullptr;
    }
    const auto bits = alg.substr(2);
    return bits == "256" ? EVP_sha256() : bits == "384" ? EVP_sha384() : EVP_sha512();
}

inline std::string sign(const TestKey& key, const std::string& alg, std::string_view input)
{
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    EVP_PKEY_CTX* key_context = nullptr;
    EVP_DigestSignInit(context, &key_context, digest_for(alg), nullptr, key.key.get());
    if (alg[0] == 'P') {
        EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST);
    }
    std::size_t length = 0;
    EVP_DigestSign(context, nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string signature(length, '\0');
    EVP_DigestSign(context, reinterpret_cast<unsigned char*>(signature.data()), &length,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    signature.resize(length);
    EVP_MD_CTX_free(context);
    if (alg[0] == 'E' && alg != "EdDSA") {
        // DER -> JOSE r || s
        const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
        ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
        const std::size_t size = alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66;
        std::string raw(2 * size, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(parsed), reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(size));
        BN_bn2binpad(ECDSA_SIG_get0_s(parsed), reinterpret_cast<unsigned char*>(raw.data() + size),
                     static_cast<int>(size));
        ECDSA_SIG_free(parsed);
        return raw;
    }
    return signature;
}

/// A compact JWS of `payload` signed by `key`; header gets alg and kid unless already given.
inline std::string make_jwt(const TestKey& key, nlohmann::json payload,
                            nlohmann::json header = nlohmann::json::object())
{
    if (!header.contains("alg")) {
        header["alg"] = key.alg;
    }
    if (!header.contains("kid")) {
        header["kid"] = key.kid;
    }
    const std::string input = base64url(header.dump()) + "." + base64url(payload.dump());
    return input + "." + base64url(sign(key, header["alg"].get<std::string>(), input));
}

inline std::string jwks_of(const std::vector<const TestKey*>& keys)
{
    nlohmann::json document{{"keys", nlohmann::json::array()}};
    for (const auto* key : keys) {
        document["keys"].push_back(key->jwk);
    }
    return document.dump();
}

} // namespace pam_oauth2::testing
