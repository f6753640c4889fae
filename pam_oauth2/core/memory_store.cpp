#include "memory_store.hpp"

namespace pam_oauth2 {

std::optional<CacheEntry> MemoryStore::read(std::string_view key, std::size_t max_bytes) const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = entries_.find(std::string(key));
    if (found == entries_.end() || found->second.entry.text.size() > max_bytes) {
        return std::nullopt;
    }
    return found->second.entry;
}

bool MemoryStore::write(std::string_view key, std::string_view text, long long stored_at) const
{
    if (max_entries_ == 0) {
        return false;
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    std::string name(key);
    const unsigned long long generation = ++generation_;
    entries_[name] = Stored{CacheEntry{std::string(text), stored_at}, generation, nullptr};
    order_.push_back({std::move(name), generation});
    while (entries_.size() > max_entries_ || order_.size() > 2 * max_entries_) {
        const Written oldest = std::move(order_.front());
        order_.pop_front();
        // Only the key's latest write evicts it; an older one was superseded.
        const auto found = entries_.find(oldest.key);
        if (found != entries_.end() && found->second.generation == oldest.generation) {
            entries_.erase(found);
        }
    }
    return true;
}

std::shared_ptr<const void> MemoryStore::memo(std::string_view key, long long stored_at) const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = entries_.find(std::string(key));
    return found != entries_.end() && found->second.entry.stored_at == stored_at ? found->second.memo : nullptr;
}

void MemoryStore::remember(std::string_view key, long long stored_at, const std::shared_ptr<const void>& parsed) const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = entries_.find(std::string(key));
    if (found != entries_.end() && found->second.entry.stored_at == stored_at) {
        found->second.memo = parsed;
    }
}

std::size_t MemoryStore::size() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

} // namespace pam_oauth2
