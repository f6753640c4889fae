#pragma once

#include "signed_out.hpp"

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

// The sign-ins the identity provider said are over (back-channel logout), by issuer and sub, and by
// issuer and sid: what makes a verdict cached before that moment stop answering, and a JWT issued
// before it be refused. Bounded: at most `capacity` entries, each kept `keep_seconds` (longer than a
// cached verdict lives); the oldest go first. Shared by every thread.
class SignedOutRegistry {
public:
    explicit SignedOutRegistry(std::size_t capacity = 100000, long long keep_seconds = 86400)
        : capacity_(capacity), keep_seconds_(keep_seconds)
    {
    }

    void record(const SignedOut& signed_out);
    /// The latest logout of that sub or that sid (either may be empty) at `issuer`, when one is
    /// recorded and still kept at `now`. An empty `issuer` matches every issuer (a userinfo verdict
    /// carries no iss): that can only make a login ask the provider once more, never grant one.
    [[nodiscard]] std::optional<long long> signed_out_at(std::string_view issuer, std::string_view subject,
                                                         std::string_view session_id, long long now) const;
    [[nodiscard]] std::size_t size() const;

private:
    void note(std::string key, long long at);
    [[nodiscard]] std::optional<long long> find(const std::string& key, long long now) const;

    std::size_t capacity_;
    long long keep_seconds_;
    mutable std::mutex mutex_;
    std::map<std::string, long long> latest_;             // key -> the latest logout it names
    std::deque<std::pair<long long, std::string>> order_; // (at, key) in the order recorded
};

} // namespace pam_oauth2
