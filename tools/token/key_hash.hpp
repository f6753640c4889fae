#pragma once

#include <string>
#include <string_view>

namespace pam_oauth2::token {

/// SHA-256 of `bytes` in lower-case hex, the same digest as sha256_hex() of the core, computed here
/// without OpenSSL: naming a kept sign-in is the only hashing a call answered from the kept token
/// does, and OpenSSL's first digest initialises the library (reads openssl.cnf, loads its
/// providers), about a third of such a call. Only names files and keys; nothing is verified with it.
std::string key_hash_hex(std::string_view bytes);

} // namespace pam_oauth2::token
