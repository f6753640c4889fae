#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <set>
#include <string>

namespace pam_oauth2 {

// A token bucket: `rate` requests per second on average, bursts of up to `rate` (at least 1).
// Time is passed in milliseconds so tests need no clock.
class TokenBucket {
public:
    explicit TokenBucket(long rate) : rate_(rate < 1 ? 1 : rate), tokens_(static_cast<double>(rate_)) {}
    /// Takes one token at `now_ms`; false when the bucket is empty.
    bool take(long long now_ms);

private:
    long rate_;
    double tokens_;
    long long last_ms_ = -1;
    std::mutex mutex_;
};

// The jti of every logout token accepted while its iat window lasts: the same token posted again is
// a replay. Bounded: at most `capacity` entries; when full the oldest go (a replay that old fails the
// iat window anyway once `keep_seconds` have passed). Keyed by a digest of issuer and jti.
class ReplayCache {
public:
    ReplayCache(std::size_t capacity, long long keep_seconds) : capacity_(capacity), keep_seconds_(keep_seconds) {}
    /// Records `issuer`'s `jti` seen at `now`; false when it was already there (a replay).
    bool first_use(const std::string& issuer, const std::string& jti, long long now);

private:
    std::size_t capacity_;
    long long keep_seconds_;
    std::mutex mutex_;
    std::set<std::string> seen_;
    std::deque<std::pair<long long, std::string>> order_;
};

} // namespace pam_oauth2
