#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace pam_oauth2 {

// How many serving threads each peer uid, or each PAM service, holds now: one of them may hold at
// most its share (max_clients_per_user, max_logins_per_service), so whatever it sends, silence
// included, the others keep threads to be served on. Past its share a connection is refused at once,
// which the module reads as "pam_oauth2d unavailable" (its broker_fallback), never as a grant.
class Admission {
public:
    /// One thread held for `key`, given back when destroyed.
    class Slot {
    public:
        Slot(Admission& owner, std::string key) : owner_(&owner), key_(std::move(key)) {}
        Slot(Slot&& other) noexcept : owner_(other.owner_), key_(std::move(other.key_)) { other.owner_ = nullptr; }
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        Slot& operator=(Slot&&) = delete;
        ~Slot()
        {
            if (owner_ != nullptr) {
                owner_->leave(key_);
            }
        }

    private:
        Admission* owner_;
        std::string key_;
    };

    /// A slot for `key` while it holds fewer than `limit`; nullopt when it is at its share.
    std::optional<Slot> enter(const std::string& key, long limit);
    [[nodiscard]] long held(const std::string& key) const;

private:
    void leave(const std::string& key);

    mutable std::mutex mutex_;
    std::map<std::string, long> held_;
};

/// Sends the REFUSED frame with `reason` (best effort: a peer that does not read loses it).
void send_refusal(int fd, const std::string& reason);

} // namespace pam_oauth2
