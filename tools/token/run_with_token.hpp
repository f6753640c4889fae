#pragma once

#include "secure_string.hpp"

#include <string>
#include <vector>

namespace pam_oauth2::token {

// How the child gets the token: in one environment variable, or through a temporary passfile.
struct ChildHandoff {
    std::string variable = "PGPASSWORD"; // with passfile: PGPASSFILE=/dev/fd/N names the file instead
    bool passfile = false;
};

/// Runs `command` (searched in PATH) with the token handed over as `handoff` says, to this child
/// only and never on a command line; waits for it and returns its exit status as a shell would
/// (128 + signal when killed, 127 when it cannot be run). A passfile is a sealed 0600 memory file
/// (memfd) on no file system, inherited by the child as the descriptor PGPASSFILE=/dev/fd/N names: it
/// cannot outlive the processes holding it, whatever signal ends the helper.
int run_with_token(const std::vector<std::string>& command, const SecureString& token, const ChildHandoff& handoff);

/// The libpq passfile line that matches every connection with `password` (":" and "\" escaped).
std::string passfile_line(std::string_view password);

} // namespace pam_oauth2::token
