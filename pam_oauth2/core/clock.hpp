#pragma once

#include <ctime>
#include <functional>

namespace pam_oauth2 {

/// Seconds since the epoch; injected so expiry logic is tested with a fake clock.
using Clock = std::function<long long()>;

/// The real clock.
inline long long system_now()
{
    return static_cast<long long>(std::time(nullptr));
}

} // namespace pam_oauth2
