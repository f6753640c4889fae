#include "configuration_cache.hpp"

#include "settings_parser.hpp"

#include <sys/stat.h>

#include <ctime>

namespace pam_oauth2 {
namespace {

long long nanoseconds(const timespec& at)
{
    return static_cast<long long>(at.tv_sec) * 1000000000LL + at.tv_nsec;
}

long long realtime_ns()
{
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return nanoseconds(now);
}

// Length-prefixed, so no argument (the wire allows any byte in one) can make two vectors one key.
std::string key_of(const std::vector<std::string>& args)
{
    std::string key;
    for (const auto& arg : args) {
        key += std::to_string(arg.size());
        key += ':';
        key += arg;
    }
    return key;
}

// The stamps of the files a loaded configuration lists, taken now; false when one no longer has the
// identity it had when it was read (it changed while being read: not to be kept).
bool stamp_sources(const Configuration& configuration, std::vector<FileStamp>& stamps)
{
    bool unchanged = true;
    stamps.clear();
    for (const auto& source : configuration.files) {
        stamps.push_back(FileStamp::of(source.path));
        const FileStamp& now = stamps.back();
        const FileIdentity& read = source.identity;
        unchanged = unchanged && now.exists && now.device == read.device && now.inode == read.inode &&
                    now.size == read.size && now.mtime_ns == nanoseconds(read.modified);
    }
    return unchanged;
}

std::string identity_of(const std::string& key, const std::vector<FileStamp>& stamps)
{
    std::string identity = key;
    for (const auto& stamp : stamps) {
        identity += '\0';
        identity += std::to_string(stamp.device) + ':' + std::to_string(stamp.inode) + ':' +
                    std::to_string(stamp.size) + ':' + std::to_string(stamp.mtime_ns) + ':' +
                    std::to_string(stamp.ctime_ns);
    }
    return identity;
}

bool still_current(const std::vector<FileStamp>& stamps)
{
    for (const auto& stamp : stamps) {
        if (!(FileStamp::of(stamp.path) == stamp)) {
            return false;
        }
    }
    return true;
}

} // namespace

FileStamp FileStamp::of(const std::string& path)
{
    FileStamp stamp;
    stamp.path = path;
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) {
        stamp.exists = true;
        stamp.device = st.st_dev;
        stamp.inode = st.st_ino;
        stamp.size = st.st_size;
        stamp.mtime_ns = nanoseconds(st.st_mtim);
        stamp.ctime_ns = nanoseconds(st.st_ctim);
    }
    return stamp;
}

bool FileStamp::operator==(const FileStamp& other) const
{
    return path == other.path && exists == other.exists && device == other.device && inode == other.inode &&
           size == other.size && mtime_ns == other.mtime_ns && ctime_ns == other.ctime_ns;
}

ConfigurationCache::ConfigurationCache(std::size_t max_entries, Loader loader, std::chrono::milliseconds error_lifetime,
                                       std::chrono::milliseconds racy_window)
    : max_entries_(max_entries), loader_(std::move(loader)), error_lifetime_(error_lifetime), racy_window_(racy_window)
{
}

ConfigurationCache::Result ConfigurationCache::get(const std::vector<std::string>& args, const Check& check)
{
    const std::string key = key_of(args);
    const auto now = std::chrono::steady_clock::now();
    if (const auto entry = find(key); entry != nullptr && entry->expires > now && still_current(entry->stamps)) {
        return {entry->loaded, entry->identity};
    }
    unsigned long generation = 0;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        generation = generation_;
    }
    const std::vector<std::string_view> views(args.begin(), args.end());
    // The conf= file is stamped before it is read (an error does not list the files it came from);
    // a configuration lists every file it was read from, with the identity the opened file had.
    std::vector<FileStamp> stamps;
    if (auto path = conf_path_from_args(views)) {
        stamps.push_back(FileStamp::of(*path));
    }
    auto entry = std::make_shared<Entry>();
    entry->expires = std::chrono::steady_clock::time_point::max();
    bool keepable = key.size() <= max_key_bytes;
    auto loaded = loader_(views);
    if (auto* configuration = std::get_if<Configuration>(&loaded)) {
        keepable = stamp_sources(*configuration, stamps) && keepable;
        if (auto problem = check(*configuration)) {
            entry->loaded = ConfigError{*problem, false};
        } else {
            entry->loaded = std::make_shared<const Configuration>(std::move(*configuration));
        }
    } else {
        entry->loaded = std::move(std::get<ConfigError>(loaded));
        entry->expires = now + error_lifetime_;
    }
    entry->identity = identity_of(key, stamps);
    const long long racy_since = realtime_ns() - std::chrono::nanoseconds(racy_window_).count();
    for (const auto& stamp : stamps) {
        keepable = keepable && stamp.changed_ns() < racy_since;
    }
    entry->stamps = std::move(stamps);
    Result result{entry->loaded, entry->identity};
    if (keepable) {
        keep(key, std::move(entry), generation);
    }
    return result;
}

std::shared_ptr<const ConfigurationCache::Entry> ConfigurationCache::find(const std::string& key) const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = entries_.find(key);
    return found == entries_.end() ? nullptr : found->second;
}

void ConfigurationCache::keep(const std::string& key, std::shared_ptr<const Entry> entry, unsigned long generation)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    if (generation != generation_ || max_entries_ == 0) {
        return; // checked against a configuration that a reload has replaced since
    }
    if (const auto found = entries_.find(key); found != entries_.end()) {
        found->second = std::move(entry);
        return;
    }
    while (entries_.size() >= max_entries_ && !order_.empty()) {
        entries_.erase(order_.front());
        order_.pop_front();
    }
    entries_.emplace(key, std::move(entry));
    order_.push_back(key);
}

void ConfigurationCache::clear()
{
    const std::lock_guard<std::mutex> lock(mutex_);
    entries_.clear();
    order_.clear();
    ++generation_;
}

std::size_t ConfigurationCache::size() const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

} // namespace pam_oauth2
