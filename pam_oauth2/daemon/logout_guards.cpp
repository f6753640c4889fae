#include "logout_guards.hpp"

#include "digest.hpp"

#include <algorithm>

namespace pam_oauth2 {

bool TokenBucket::take(long long now_ms)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    if (last_ms_ >= 0 && now_ms > last_ms_) {
        tokens_ = std::min(static_cast<double>(rate_),
                           tokens_ + static_cast<double>(now_ms - last_ms_) * static_cast<double>(rate_) / 1000.0);
    }
    last_ms_ = std::max(last_ms_, now_ms);
    if (tokens_ < 1.0) {
        return false;
    }
    tokens_ -= 1.0;
    return true;
}

bool ReplayCache::first_use(const std::string& issuer, const std::string& jti, long long now)
{
    std::string material(issuer);
    material.append(1, '\0').append(jti);
    const std::string key = sha256_hex(material);
    const std::lock_guard<std::mutex> lock(mutex_);
    while (!order_.empty() && (order_.size() >= capacity_ || order_.front().first < now - keep_seconds_)) {
        seen_.erase(order_.front().second);
        order_.pop_front();
    }
    if (!seen_.insert(key).second) {
        return false;
    }
    order_.emplace_back(now, key);
    return true;
}

} // namespace pam_oauth2
