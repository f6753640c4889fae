#include "sealed_entry.hpp"

#include "secure_string.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>

namespace pam_oauth2::shared_cache {
namespace {

// The layout of a sealed value: format | key id (4, big-endian) | nonce (12) | ciphertext | tag (16).
// The plaintext: written_at (8, big-endian) | use_by (8) | payload.
constexpr unsigned char format_version = 1;
constexpr std::size_t id_bytes = 4;
constexpr std::size_t nonce_bytes = 12;
constexpr std::size_t tag_bytes = 16;
constexpr std::size_t header_bytes = 1 + id_bytes + nonce_bytes;
constexpr std::size_t times_bytes = 16;
// A value written more than this far ahead of the reader's clock is not believed.
constexpr std::int64_t clock_skew_seconds = 300;
constexpr std::string_view salt = "pam_oauth2 shared cache v1";

template <std::size_t N> Fallible<std::array<unsigned char, N>> hkdf(std::string_view secret, std::string_view info)
{
    std::array<unsigned char, N> out{};
    const std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr), &EVP_KDF_free);
    const std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> context(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr,
                                                                            &EVP_KDF_CTX_free);
    char digest[] = "SHA256";
    // OSSL_PARAM takes non-const pointers; HKDF only reads them.
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(secret.data()), secret.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
        OSSL_PARAM_construct_end()};
    if (!context || EVP_KDF_derive(context.get(), out.data(), out.size(), params) != 1) {
        return Failure{"cannot derive the shared cache keys (OpenSSL HKDF)"};
    }
    return out;
}

Fallible<FleetKeys::Keys> derive_keys(std::string_view secret)
{
    auto id = hkdf<id_bytes>(secret, "key id");
    auto names = hkdf<32>(secret, "entry names");
    auto values = hkdf<32>(secret, "entry values");
    if (!id.ok() || !names.ok() || !values.ok()) {
        return Failure{"cannot derive the shared cache keys (OpenSSL HKDF)"};
    }
    FleetKeys::Keys keys;
    for (const unsigned char byte : id.value()) {
        keys.id = keys.id << 8 | byte;
    }
    keys.name_key = names.value();
    keys.value_key = values.value();
    OPENSSL_cleanse(names.value().data(), names.value().size());
    OPENSSL_cleanse(values.value().data(), values.value().size());
    return keys;
}

void put_be(std::string& out, std::uint64_t value, std::size_t bytes)
{
    for (std::size_t i = bytes; i-- > 0;) {
        out += static_cast<char>((value >> (8 * i)) & 0xff);
    }
}

std::uint64_t get_be(std::string_view in, std::size_t bytes)
{
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
        value = value << 8 | static_cast<unsigned char>(in[i]);
    }
    return value;
}

// Each field with its length first, so ("ab", "c") and ("a", "bc") never name the same entry.
std::string name_input(const EntryKey& key)
{
    std::string input = "pam_oauth2 entry name v1";
    for (const auto field : {key.kind, key.subject_digest, key.fingerprint}) {
        put_be(input, field.size(), 4);
        input += field;
    }
    return input;
}

std::string hmac_hex(const std::array<unsigned char, 32>& key, std::string_view input)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &length) == nullptr) {
        return {};
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string text;
    for (unsigned int i = 0; i < length; ++i) {
        text += hex[mac[i] >> 4];
        text += hex[mac[i] & 0x0f];
    }
    return text;
}

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes_of(std::string_view text)
{
    return reinterpret_cast<const unsigned char*>(text.data());
}

// AES-256-GCM over `plain` with the header and name as associated data; appends ciphertext and tag.
bool encrypt(const FleetKeys::Keys& keys, std::string_view name, std::string_view plain, std::string& sealed)
{
    const CipherContext context(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    const std::string_view header(sealed.data(), header_bytes);
    const auto* nonce = bytes_of(header.substr(1 + id_bytes));
    int length = 0;
    if (!context || EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, keys.value_key.data(), nonce) != 1 ||
        EVP_EncryptUpdate(context.get(), nullptr, &length, bytes_of(header), static_cast<int>(header.size())) != 1 ||
        EVP_EncryptUpdate(context.get(), nullptr, &length, bytes_of(name), static_cast<int>(name.size())) != 1) {
        return false;
    }
    std::string out(plain.size() + tag_bytes, '\0');
    auto* cipher = reinterpret_cast<unsigned char*>(out.data());
    int final_length = 0;
    if (EVP_EncryptUpdate(context.get(), cipher, &length, bytes_of(plain), static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(context.get(), cipher + length, &final_length) != 1 ||
        EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_bytes), cipher + plain.size()) !=
            1) {
        return false;
    }
    sealed += out;
    return true;
}

// The plaintext, or nullopt when the tag does not verify.
std::optional<std::string> decrypt(const FleetKeys::Keys& keys, std::string_view name, std::string_view sealed)
{
    const auto header = sealed.substr(0, header_bytes);
    const auto cipher = sealed.substr(header_bytes, sealed.size() - header_bytes - tag_bytes);
    std::string tag(sealed.substr(sealed.size() - tag_bytes));
    const CipherContext context(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int length = 0;
    if (!context ||
        EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, keys.value_key.data(),
                           bytes_of(header.substr(1 + id_bytes))) != 1 ||
        EVP_DecryptUpdate(context.get(), nullptr, &length, bytes_of(header), static_cast<int>(header.size())) != 1 ||
        EVP_DecryptUpdate(context.get(), nullptr, &length, bytes_of(name), static_cast<int>(name.size())) != 1) {
        return std::nullopt;
    }
    std::string plain(cipher.size(), '\0');
    auto* out = reinterpret_cast<unsigned char*>(plain.data());
    int final_length = 0;
    if (EVP_DecryptUpdate(context.get(), out, &length, bytes_of(cipher), static_cast<int>(cipher.size())) != 1 ||
        EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_bytes), tag.data()) != 1 ||
        EVP_DecryptFinal_ex(context.get(), out + length, &final_length) != 1) {
        OPENSSL_cleanse(plain.data(), plain.size());
        return std::nullopt;
    }
    return plain;
}

} // namespace

Fallible<FleetKeys> FleetKeys::derive(std::string_view secret, std::string_view previous)
{
    if (secret.size() < min_secret_bytes || (!previous.empty() && previous.size() < min_secret_bytes)) {
        return Failure{"a shared cache key must hold at least " + std::to_string(min_secret_bytes) +
                       " bytes (make one with: openssl rand -base64 48)"};
    }
    FleetKeys fleet;
    for (const auto one : {secret, previous}) {
        if (one.empty()) {
            continue;
        }
        auto keys = derive_keys(one);
        if (!keys.ok()) {
            return Failure{keys.error()};
        }
        fleet.keys_.push_back(keys.value());
    }
    if (fleet.keys_.size() == 2 && fleet.keys_[0].id == fleet.keys_[1].id) {
        fleet.keys_.pop_back(); // the same secret twice
    }
    return fleet;
}

FleetKeys::~FleetKeys()
{
    for (auto& keys : keys_) {
        OPENSSL_cleanse(keys.name_key.data(), keys.name_key.size());
        OPENSSL_cleanse(keys.value_key.data(), keys.value_key.size());
    }
}

std::string FleetKeys::entry_name(std::string_view prefix, const EntryKey& key) const
{
    return std::string(prefix) + hmac_hex(keys_.front().name_key, name_input(key));
}

std::vector<std::string> FleetKeys::entry_names(std::string_view prefix, const EntryKey& key) const
{
    std::vector<std::string> names;
    const std::string input = name_input(key);
    for (const auto& keys : keys_) {
        names.push_back(std::string(prefix) + hmac_hex(keys.name_key, input));
    }
    return names;
}

Fallible<std::string> FleetKeys::seal(std::string_view name, const EntryContent& content) const
{
    if (content.payload.size() > max_payload_bytes) {
        return Failure{"a shared cache entry is larger than " + std::to_string(max_payload_bytes) + " bytes"};
    }
    const Keys& keys = keys_.front();
    std::string sealed;
    sealed += static_cast<char>(format_version);
    put_be(sealed, keys.id, id_bytes);
    std::array<unsigned char, nonce_bytes> nonce{};
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
        return Failure{"no random bytes for a nonce (OpenSSL RAND_bytes)"};
    }
    sealed.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
    std::string plain;
    put_be(plain, static_cast<std::uint64_t>(content.written_at), 8);
    put_be(plain, static_cast<std::uint64_t>(content.use_by), 8);
    plain += content.payload;
    const bool sealed_ok = encrypt(keys, name, plain, sealed);
    OPENSSL_cleanse(plain.data(), plain.size());
    if (!sealed_ok) {
        return Failure{"cannot seal a shared cache entry (OpenSSL AES-256-GCM)"};
    }
    return sealed;
}

Fallible<EntryContent> FleetKeys::open(std::string_view name, std::string_view sealed, std::int64_t now) const
{
    if (sealed.size() < header_bytes + times_bytes + tag_bytes ||
        sealed.size() > header_bytes + times_bytes + max_payload_bytes + tag_bytes) {
        return Failure{"a shared cache value has the wrong size"};
    }
    if (static_cast<unsigned char>(sealed[0]) != format_version) {
        return Failure{"a shared cache value has an unknown format"};
    }
    const auto id = static_cast<std::uint32_t>(get_be(sealed.substr(1), id_bytes));
    const Keys* keys = nullptr;
    for (const auto& candidate : keys_) {
        keys = candidate.id == id ? &candidate : keys;
    }
    if (keys == nullptr) {
        return Failure{"a shared cache value is sealed under a key this host does not hold"};
    }
    auto plain = decrypt(*keys, name, sealed);
    if (!plain) {
        return Failure{"a shared cache value does not open (altered, or stored under another name)"};
    }
    const WipeOnExit wipe(*plain);
    const std::string_view text(*plain);
    EntryContent content;
    content.written_at = static_cast<std::int64_t>(get_be(text, 8));
    content.use_by = static_cast<std::int64_t>(get_be(text.substr(8), 8));
    content.payload = std::string(text.substr(times_bytes));
    if (content.use_by <= now) {
        return Failure{"a shared cache value is past its use-by time"};
    }
    if (content.written_at > now + clock_skew_seconds || content.use_by < content.written_at) {
        return Failure{"a shared cache value has impossible times (written in the future, or used before written)"};
    }
    return content;
}

} // namespace pam_oauth2::shared_cache
