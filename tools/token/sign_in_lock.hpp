#pragma once

#include "unique_fd.hpp"

#include <functional>
#include <string>
#include <variant>

namespace pam_oauth2::token {

/// Holds the lock of one sign-in (profile and account) while it is used: an exclusive flock on
/// KEY.lock in the private cache directory, so that a second caller waits for the first one's
/// sign-in or refresh and then uses what it kept, instead of starting another (a second tab, a
/// second device code, a rotated refresh token replayed). Waits at most `wait_seconds`; `waiting`
/// is called once when the lock is taken by another process. The lock, or the reason there is none
/// (the deadline passed, or the directory is unusable).
std::variant<UniqueFd, std::string> lock_sign_in(const std::string& key, long wait_seconds,
                                                 const std::function<void()>& waiting);

} // namespace pam_oauth2::token
