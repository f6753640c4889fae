#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

namespace pam_oauth2 {

// When a process started, as the kernel says: the clock ticks after boot of /proc/PID/stat field 22
// (compared as-is: a pid reused by a later process has a later start), and that moment as wall time
// (boot time from /proc/stat's btime plus ticks / CLK_TCK), for PostgreSQL's backend_start.
struct ProcessStart {
    unsigned long long ticks = 0;
    double wall_seconds = 0;
};

/// Field 22 of a /proc/PID/stat line. The command name (field 2) may hold blanks and parentheses, so
/// fields are counted after its last ')'. nullopt for anything else.
std::optional<unsigned long long> parse_stat_start_ticks(std::string_view stat);

/// The btime line of /proc/stat: seconds since the epoch at boot.
std::optional<long long> parse_boot_time(std::string_view proc_stat);

/// The start of process `pid` now, read from `proc_root` (/proc; tests pass a directory of their
/// own); nullopt when it is gone or unreadable.
std::optional<ProcessStart> read_process_start(pid_t pid, const char* proc_root = "/proc");

} // namespace pam_oauth2
