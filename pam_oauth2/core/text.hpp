#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pam_oauth2 {

/// `text` without leading and trailing blanks (space, tab, carriage return).
std::string_view trim(std::string_view text);

/// The non-empty, trimmed items of a comma-separated list.
std::vector<std::string> split_list(std::string_view text);

/// The byte with A-Z folded to a-z and nothing else: no locale, so the same bytes compare the same
/// way in every host process (an 8-bit locale must not fold bytes above 0x7f).
constexpr char ascii_lower(char c) noexcept
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// A value from outside (a claim, a kid, a provider's field) made fit to quote in a reason: at most
/// `limit` bytes of it, then "..."; control bytes, quotes, backslashes and bytes above 0x7e as \xNN.
/// Nothing an attacker puts in a token can flood the log, forge a field or break a line.
std::string log_safe(std::string_view value, std::size_t limit = 64);

/// Text for a terminal: control bytes and bytes above ASCII as \xNN, nothing else changed
/// and nothing cut. Whatever a token holds cannot move the cursor, repaint the screen or add a line.
std::string printable(std::string_view text);

/// The permission bits of a file mode as written for chmod ("0640"), for messages about files.
std::string octal_mode(unsigned mode);

/// Equality ignoring ASCII case only (user names, deny_users, case_insensitive).
bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) noexcept;

/// One name or value of an application/x-www-form-urlencoded text (a form body, a query string):
/// '+' is a space and %XX a byte; nullopt for a '%' not followed by two hex digits.
std::optional<std::string> form_decode(std::string_view text);

} // namespace pam_oauth2
