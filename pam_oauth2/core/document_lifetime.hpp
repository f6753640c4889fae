#pragma once

#include <string>
#include <string_view>

namespace pam_oauth2 {

/// How long a fetched discovery document or JWKS is reused before it is fetched again.
constexpr long long jwks_cache_seconds = 600;
/// The shortest reuse a provider's Cache-Control can ask for: below it, a storm of logins would
/// become a storm of JWKS fetches.
constexpr long long jwks_min_cache_seconds = 60;

/// The reuse a Cache-Control header asks for: max-age (s-maxage first) shortens jwks_cache_seconds,
/// never below jwks_min_cache_seconds; no-cache and no-store mean the minimum; a longer life is not
/// granted (a withdrawn key must be gone within jwks_cache_seconds). No header: jwks_cache_seconds.
long long document_lifetime(std::string_view cache_control);

// A cached document keeps its lifetime in a first line "max-age=N" when it is shorter than the
// default; documents stored without it (and by earlier versions) live jwks_cache_seconds.
struct StoredDocument {
    long long lifetime = jwks_cache_seconds;
    std::string_view body;
};
/// The text to store for `body` with `lifetime`.
std::string stored_document(long long lifetime, std::string_view body);
/// The lifetime and body of stored text.
StoredDocument read_stored_document(std::string_view text);

} // namespace pam_oauth2
