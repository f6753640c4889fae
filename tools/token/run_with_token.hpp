#pragma once

#include "secure_string.hpp"

#include <string>
#include <vector>

namespace pam_oauth2::token {

// How the child gets the token: in one environment variable, or through a temporary passfile.
struct ChildHandoff {
    std::string variable = "PGPASSWORD"; // with passfile: the file's path goes in PGPASSFILE instead
    bool passfile = false;
};

/// Runs `command` (searched in PATH) with the token handed over as `handoff` says, to this child
/// only and never on a command line; waits for it and returns its exit status as a shell would
/// (128 + signal when killed, 127 when it cannot be run). A passfile is created 0600 in
/// $XDG_RUNTIME_DIR (or /tmp) and removed when the child ends.
int run_with_token(const std::vector<std::string>& command, const SecureString& token, const ChildHandoff& handoff);

/// The libpq passfile line that matches every connection with `password` (":" and "\" escaped).
std::string passfile_line(std::string_view password);

} // namespace pam_oauth2::token
