#include "memory_store.hpp"

namespace pam_oauth2 {

std::size_t MemoryStore::charge(const std::string& key, const Stored& stored)
{
    const std::size_t text = stored.entry.text.size();
    return overhead_bytes + key.size() + text + (stored.memo ? text : 0);
}

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
    const std::lock_guard<std::mutex> lock(mutex_);
    std::string name(key);
    const auto old = entries_.find(name);
    if (old != entries_.end()) {
        // Superseded whether or not the new text fits: an older document must not be served instead.
        bytes_ -= charge(old->first, old->second);
        entries_.erase(old);
    }
    Stored stored{CacheEntry{std::string(text), stored_at}, 0, nullptr};
    const std::size_t cost = charge(name, stored) + overhead_bytes + name.size();
    if (max_entries_ == 0 || cost > max_bytes_) {
        return false;
    }
    stored.generation = ++generation_;
    bytes_ += cost;
    order_.push_back({name, stored.generation});
    entries_.emplace(std::move(name), std::move(stored));
    evict();
    return true;
}

void MemoryStore::evict() const
{
    while (!order_.empty() &&
           (entries_.size() > max_entries_ || bytes_ > max_bytes_ || order_.size() > 2 * max_entries_)) {
        const Written oldest = std::move(order_.front());
        order_.pop_front();
        bytes_ -= overhead_bytes + oldest.key.size();
        // Only the key's latest write evicts it; an older one was superseded.
        const auto found = entries_.find(oldest.key);
        if (found != entries_.end() && found->second.generation == oldest.generation) {
            bytes_ -= charge(found->first, found->second);
            entries_.erase(found);
        }
    }
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
    if (found == entries_.end() || found->second.entry.stored_at != stored_at) {
        return;
    }
    Stored& stored = found->second;
    const std::size_t before = charge(found->first, stored);
    const std::size_t text = stored.entry.text.size();
    if (!stored.memo && before + text + overhead_bytes + found->first.size() > max_bytes_) {
        return; // the parsed copy could only be kept by evicting its own entry: parse again instead
    }
    bytes_ -= before;
    stored.memo = parsed;
    bytes_ += charge(found->first, stored);
    evict();
}

bool MemoryStore::admits(std::string_view url) const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return !policy_ || policy_(url);
}

void MemoryStore::configure(std::size_t max_entries, std::size_t max_bytes)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    max_entries_ = max_entries;
    max_bytes_ = max_bytes;
    evict();
}

void MemoryStore::admit_only(std::function<bool(std::string_view url)> policy)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    policy_ = std::move(policy);
}

std::size_t MemoryStore::size() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

std::size_t MemoryStore::bytes() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
}

} // namespace pam_oauth2
