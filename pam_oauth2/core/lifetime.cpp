#include "lifetime.hpp"

#include "json.hpp"

#include <limits>

namespace pam_oauth2 {
namespace {

// a + b clamped to the range of long long: a hostile exp near INT64_MAX must not wrap around.
long long saturating_add(long long a, long long b) noexcept
{
    long long sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) {
        return b > 0 ? std::numeric_limits<long long>::max() : std::numeric_limits<long long>::min();
    }
    return sum;
}

// a - b clamped, for the "how long ago" parts of reasons.
long long saturating_sub(long long a, long long b) noexcept
{
    long long difference = 0;
    if (__builtin_sub_overflow(a, b, &difference)) {
        return b < 0 ? std::numeric_limits<long long>::max() : std::numeric_limits<long long>::min();
    }
    return difference;
}

// RFC 7519 NumericDate, kept to years 1970 to 9999: nothing real lies outside, and everything inside
// is far from the ends of the 64-bit range.
constexpr long long latest_numeric_date = 253'402'300'799;

std::optional<std::string> read_time(const nlohmann::json& claims, const char* name, std::optional<long long>& out)
{
    if (!claims.contains(name)) {
        return std::nullopt;
    }
    out = integer_member(claims, name);
    if (!out) {
        return "claim " + std::string(name) + " is not a number";
    }
    if (*out < 0 || *out > latest_numeric_date) {
        return "claim " + std::string(name) + " is not a date between 1970 and 9999";
    }
    return std::nullopt;
}

} // namespace

std::variant<TokenTimes, std::string> read_token_times(const nlohmann::json& claims)
{
    TokenTimes times;
    for (const auto& [name, slot] : {std::pair<const char*, std::optional<long long>*>{"exp", &times.expires_at},
                                     {"nbf", &times.not_before},
                                     {"iat", &times.issued_at}}) {
        if (auto problem = read_time(claims, name, *slot)) {
            return *problem;
        }
    }
    return times;
}

std::optional<std::string> check_token_times(const TokenTimes& times, long long now, long leeway_seconds)
{
    if (times.expires_at && is_past(accepted_until(*times.expires_at, leeway_seconds), now)) {
        return "token expired " + std::to_string(saturating_sub(now, *times.expires_at)) + " s ago (leeway " +
               std::to_string(leeway_seconds) + " s)";
    }
    if (times.not_before && saturating_add(now, leeway_seconds) < *times.not_before) {
        return "token not valid for another " + std::to_string(saturating_sub(*times.not_before, now)) + " s (nbf)";
    }
    if (times.issued_at && *times.issued_at > saturating_add(now, leeway_seconds)) {
        return "token issued " + std::to_string(saturating_sub(*times.issued_at, now)) +
               " s in the future (iat); check the clocks";
    }
    return std::nullopt;
}

long long accepted_until(long long expires_at, long leeway_seconds) noexcept
{
    return saturating_add(expires_at, leeway_seconds);
}

} // namespace pam_oauth2
