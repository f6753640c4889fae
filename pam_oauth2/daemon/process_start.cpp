#include "process_start.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <string>

namespace pam_oauth2 {
namespace {

// A small /proc file whole (they are generated on read; one read gives a consistent line).
std::optional<std::string> read_small(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return std::nullopt;
    }
    std::string text;
    char buffer[4096];
    ssize_t got = 0;
    while (text.size() < 65536 && (got = ::read(fd, buffer, sizeof buffer)) > 0) {
        text.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(fd);
    if (got < 0) {
        return std::nullopt;
    }
    return text;
}

template <typename Number> std::optional<Number> number_at(std::string_view text)
{
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end == text.data()) {
        return std::nullopt;
    }
    return value;
}

} // namespace

std::optional<unsigned long long> parse_stat_start_ticks(std::string_view stat)
{
    const auto close = stat.rfind(')');
    if (close == std::string_view::npos || stat.find('(') == std::string_view::npos) {
        return std::nullopt;
    }
    // After ") " comes field 3 (state); field 22 is the 20th from there.
    std::string_view rest = stat.substr(close + 1);
    for (int field = 3; field < 22; ++field) {
        const auto start = rest.find_first_not_of(' ');
        if (start == std::string_view::npos) {
            return std::nullopt;
        }
        const auto blank = rest.find(' ', start);
        if (blank == std::string_view::npos) {
            return std::nullopt;
        }
        rest.remove_prefix(blank);
    }
    const auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        return std::nullopt;
    }
    rest.remove_prefix(start);
    const auto end = rest.find_first_of(" \n");
    const std::string_view digits = rest.substr(0, end);
    auto ticks = number_at<unsigned long long>(digits);
    if (!ticks || digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    return ticks;
}

std::optional<long long> parse_boot_time(std::string_view proc_stat)
{
    std::size_t at = 0;
    while (at < proc_stat.size()) {
        const auto end = proc_stat.find('\n', at);
        const std::string_view line = proc_stat.substr(at, end == std::string_view::npos ? end : end - at);
        if (line.substr(0, 6) == "btime ") {
            return number_at<long long>(line.substr(6));
        }
        if (end == std::string_view::npos) {
            break;
        }
        at = end + 1;
    }
    return std::nullopt;
}

std::optional<ProcessStart> read_process_start(pid_t pid, const char* proc_root)
{
    const std::string root(proc_root);
    const auto stat = read_small(root + "/" + std::to_string(pid) + "/stat");
    const auto boot = read_small(root + "/stat");
    if (!stat || !boot) {
        return std::nullopt;
    }
    const auto ticks = parse_stat_start_ticks(*stat);
    const auto btime = parse_boot_time(*boot);
    const long per_second = ::sysconf(_SC_CLK_TCK);
    if (!ticks || !btime || per_second <= 0) {
        return std::nullopt;
    }
    return ProcessStart{*ticks,
                        static_cast<double>(*btime) + static_cast<double>(*ticks) / static_cast<double>(per_second)};
}

} // namespace pam_oauth2
