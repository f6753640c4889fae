#include "signed_out_registry.hpp"

#include <algorithm>

namespace pam_oauth2 {
namespace {

// Keys: what they name, each part ended by a NUL (no part holds one: they come from JSON strings
// checked by the logout token's verifier, and a NUL would only make a lookup miss). An empty issuer
// is the any-issuer index.
std::string key_of(std::string_view issuer, std::string_view kind, std::string_view value)
{
    std::string key(issuer);
    key.append(1, '\0').append(kind).append(1, '\0').append(value);
    return key;
}

} // namespace

void SignedOutRegistry::note(std::string key, long long at)
{
    auto& latest = latest_[key];
    latest = std::max(latest, at);
    order_.emplace_back(at, std::move(key));
}

void SignedOutRegistry::record(const SignedOut& signed_out)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [kind, value] : {std::pair<const char*, const std::string&>{"sub", signed_out.subject},
                                      std::pair<const char*, const std::string&>{"sid", signed_out.session_id}}) {
        if (!value.empty()) {
            note(key_of(signed_out.issuer, kind, value), signed_out.at);
            note(key_of("", kind, value), signed_out.at);
        }
    }
    // Bounded: the oldest records go, and with them the key unless a later record renewed it.
    while (order_.size() > capacity_ || (!order_.empty() && order_.front().first < signed_out.at - keep_seconds_)) {
        const auto& [at, key] = order_.front();
        const auto found = latest_.find(key);
        if (found != latest_.end() && found->second == at) {
            latest_.erase(found);
        }
        order_.pop_front();
    }
}

std::optional<long long> SignedOutRegistry::find(const std::string& key, long long now) const
{
    const auto found = latest_.find(key);
    if (found == latest_.end() || found->second < now - keep_seconds_) {
        return std::nullopt;
    }
    return found->second;
}

std::optional<long long> SignedOutRegistry::signed_out_at(std::string_view issuer, std::string_view subject,
                                                          std::string_view session_id, long long now) const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    std::optional<long long> latest;
    for (const auto& [kind, value] : {std::pair<const char*, std::string_view>{"sub", subject},
                                      std::pair<const char*, std::string_view>{"sid", session_id}}) {
        if (value.empty()) {
            continue;
        }
        if (const auto at = find(key_of(issuer, kind, value), now)) {
            latest = std::max(latest.value_or(*at), *at);
        }
    }
    return latest;
}

std::size_t SignedOutRegistry::size() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return latest_.size();
}

} // namespace pam_oauth2
