#include "admission.hpp"

#include "broker_io.h"

#include <iterator>
#include <vector>

namespace pam_oauth2 {

std::optional<Admission::Slot> Admission::enter(const std::string& key, long limit)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    long& count = held_[key];
    if (count >= limit) {
        if (count == 0) {
            held_.erase(key);
        }
        return std::nullopt;
    }
    ++count;
    return Slot(*this, key);
}

long Admission::held(const std::string& key) const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = held_.find(key);
    return found == held_.end() ? 0 : found->second;
}

void Admission::leave(const std::string& key)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = held_.find(key);
    if (found != held_.end() && --found->second <= 0) {
        held_.erase(found);
    }
}

void send_refusal(int fd, const std::string& reason)
{
    std::vector<unsigned char> buffer(broker_header_bytes + 1 + 1024);
    broker_writer writer{};
    broker_writer_begin(&writer, buffer.data(), buffer.size(), broker_refused);
    broker_writer_add(&writer, broker_reason, reason.data(), reason.size());
    const std::size_t length = broker_writer_finish(&writer);
    if (length != 0) {
        constexpr int64_t wait_ms = 200; // a refusal is small; never hold a thread for a peer that does not read
        broker_send(fd, buffer.data(), length, broker_now_ms() + wait_ms);
    }
}

} // namespace pam_oauth2
