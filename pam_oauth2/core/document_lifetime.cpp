#include "document_lifetime.hpp"

#include "text.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace pam_oauth2 {
namespace {

constexpr std::string_view lifetime_prefix = "max-age=";

std::optional<long long> seconds_of(std::string_view value)
{
    value = trim(value);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
    }
    long long seconds = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (error == std::errc::result_out_of_range && end == value.data() + value.size()) {
        return jwks_cache_seconds; // absurdly long: the default bounds it anyway
    }
    if (error != std::errc() || end != value.data() + value.size() || seconds < 0) {
        return std::nullopt;
    }
    return seconds;
}

} // namespace

long long document_lifetime(std::string_view cache_control)
{
    std::optional<long long> max_age;
    std::optional<long long> shared_max_age;
    bool uncached = false;
    for (const auto& directive : split_list(cache_control)) {
        std::string name(trim(std::string_view(directive).substr(0, directive.find('='))));
        std::transform(name.begin(), name.end(), name.begin(), ascii_lower);
        const auto equals = directive.find('=');
        const std::string_view value =
            equals == std::string::npos ? std::string_view{} : std::string_view(directive).substr(equals + 1);
        if (name == "no-cache" || name == "no-store") {
            uncached = true;
        } else if (name == "max-age") {
            max_age = seconds_of(value);
        } else if (name == "s-maxage") {
            shared_max_age = seconds_of(value);
        }
    }
    if (uncached) {
        return jwks_min_cache_seconds;
    }
    const auto asked = shared_max_age ? shared_max_age : max_age;
    if (!asked) {
        return jwks_cache_seconds;
    }
    return std::clamp(*asked, jwks_min_cache_seconds, jwks_cache_seconds);
}

std::string stored_document(long long lifetime, std::string_view body)
{
    if (lifetime >= jwks_cache_seconds) {
        return std::string(body);
    }
    return std::string(lifetime_prefix) + std::to_string(lifetime) + "\n" + std::string(body);
}

StoredDocument read_stored_document(std::string_view text)
{
    StoredDocument stored;
    stored.body = text;
    if (text.substr(0, lifetime_prefix.size()) != lifetime_prefix) {
        return stored;
    }
    const auto newline = text.find('\n');
    const auto seconds = seconds_of(text.substr(lifetime_prefix.size(), newline - lifetime_prefix.size()));
    if (newline == std::string_view::npos || !seconds) {
        return stored; // not ours: the parse that follows refuses it
    }
    stored.lifetime = std::clamp(*seconds, jwks_min_cache_seconds, jwks_cache_seconds);
    stored.body = text.substr(newline + 1);
    return stored;
}

} // namespace pam_oauth2
