#pragma once

#include <optional>
#include <string>

namespace pam_oauth2::token {

/// Opens `url` in a browser without a shell: `command` (words split on blanks, the URL added as
/// one more argument), else $BROWSER (one program), else xdg-open. The program's standard streams
/// go to /dev/null (standard output carries the token). The reason when it could not be started.
std::optional<std::string> open_in_browser(const std::string& command, const std::string& url);

} // namespace pam_oauth2::token
