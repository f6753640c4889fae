#pragma once

#include "fallible.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pam_oauth2::shared_cache {

/// What an entry holds once opened. Times are Unix seconds.
struct EntryContent {
    std::int64_t written_at = 0;
    std::int64_t use_by = 0; ///< the writer's bound; the reader also applies its own
    std::string payload;
};

/// The parts of an entry's name: what it is (a verdict, a refusal, a JWKS...), the SHA-256 of the
/// token (hex) or of the document's URL, and a fingerprint of every setting the entry depends on.
struct EntryKey {
    std::string_view kind;
    std::string_view subject_digest;
    std::string_view fingerprint;
};

/// The keys of a fleet, derived with HKDF-SHA256 from the secret every host shares (and, during a
/// rotation, the previous one), and what they do:
///   entry names  prefix + hex HMAC-SHA256(name key, kind, digest, fingerprint): a reader of Redis
///                learns nothing of tokens, and two configurations never meet on a name;
///   entry values AES-256-GCM under the value key with a random 96-bit nonce; the associated data
///                is the header (format, key id, nonce) and the entry's name, so a value copied under
///                another name, altered, or sealed under another secret does not open.
/// Sealing always uses the current secret; opening picks the secret by the key id in the value.
class FleetKeys {
public:
    static constexpr std::size_t min_secret_bytes = 32;
    static constexpr std::size_t max_payload_bytes = std::size_t{1} << 20;

    /// Fails for a secret shorter than min_secret_bytes (either of the two), or when OpenSSL cannot
    /// derive. `previous` empty: no rotation in progress.
    static Fallible<FleetKeys> derive(std::string_view secret, std::string_view previous = {});
    ~FleetKeys();
    FleetKeys(const FleetKeys&) = default;
    FleetKeys& operator=(const FleetKeys&) = default;
    FleetKeys(FleetKeys&&) = default;
    FleetKeys& operator=(FleetKeys&&) = default;

    /// The name under the current secret.
    [[nodiscard]] std::string entry_name(std::string_view prefix, const EntryKey& key) const;
    /// The names to look up, current secret first, then the previous one (during a rotation).
    [[nodiscard]] std::vector<std::string> entry_names(std::string_view prefix, const EntryKey& key) const;

    /// The value to store under `name`; fails only when OpenSSL does, or the payload is too big.
    [[nodiscard]] Fallible<std::string> seal(std::string_view name, const EntryContent& content) const;
    /// The content, or why it is a miss: malformed, an unknown key id, altered, sealed for another
    /// name, or past its use-by time at `now` (Unix seconds). Never a grant nor a refusal itself.
    [[nodiscard]] Fallible<EntryContent> open(std::string_view name, std::string_view sealed, std::int64_t now) const;

    /// The key ids of the current and previous secret: a fingerprint fit for a log line.
    [[nodiscard]] std::uint32_t current_key_id() const { return keys_.front().id; }

    struct Keys {
        std::uint32_t id = 0;
        std::array<unsigned char, 32> name_key{};
        std::array<unsigned char, 32> value_key{};
    };

private:
    FleetKeys() = default;
    std::vector<Keys> keys_; ///< current, then previous
};

} // namespace pam_oauth2::shared_cache
