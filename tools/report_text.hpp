#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace pam_oauth2 {

/// The JSON text of a report: escaped to ASCII (control bytes and non-ASCII as \u escapes, invalid
/// UTF-8 replaced), so a hostile claim can neither break the document nor reach the terminal raw.
std::string report_json(const nlohmann::json& report);

/// `pam_oauth2_check --explain` for a terminal: configuration, token, each step of the decision,
/// result. Every value from outside is passed through printable().
std::string explanation_text(const nlohmann::json& report);

/// `pam_oauth2_check --dry-run` for a terminal: one line per check, then the verdict.
std::string dry_run_text(const nlohmann::json& report);

} // namespace pam_oauth2
