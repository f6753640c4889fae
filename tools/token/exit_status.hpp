#pragma once

namespace pam_oauth2::token {

// Exit statuses of pam_oauth2_token (also in the man page).
constexpr int exit_ok = 0;
constexpr int exit_not_signed_in = 1; // denied, code expired, or --no-prompt with no usable sign-in
constexpr int exit_unavailable = 2;   // provider unreachable or answering badly
constexpr int exit_configuration = 3; // options, profile, client refused, no device flow, unsafe store
constexpr int exit_usage = 4;

} // namespace pam_oauth2::token
