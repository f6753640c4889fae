#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace pam_oauth2 {

/// Equality ignoring ASCII case only (user names, deny_users, case_insensitive): no locale, so the
/// same bytes compare the same way in every host process.
inline bool equal_ignoring_ascii_case(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

} // namespace pam_oauth2
