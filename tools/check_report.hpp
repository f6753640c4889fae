#pragma once

#include "configuration.hpp"
#include "login.hpp"
#include "secure_string.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace pam_oauth2 {

// The parts of what `pam_oauth2_check --explain` and `--json` show that the tool adds around the
// decision's own trace (trace.hpp). Everything is JSON first; report_text.cpp renders it for a terminal.

/// The effective options (secrets redacted) and where each came from: "argument", "conf file PATH
/// line N" or "default"; then each [issuer] section's own options. `args` are the module arguments.
nlohmann::json configuration_report(const Configuration& configuration, const std::vector<std::string_view>& args);

/// The token as presented: length, fingerprint, form, truncation hint, and for a JWT the header and
/// claims decoded (not verified; times as dates and relative to `now`). Never the token itself.
nlohmann::json token_report(const SecureString& token, long long now);

/// A NumericDate as {epoch, utc, relative} ("2026-12-02 12:33:54 UTC", "in 4 min 59 s").
nlohmann::json describe_time(long long epoch, long long now);

/// The verdict and the PAM code the module would return for it.
nlohmann::json result_report(const LoginResult& result, long long now);

/// The name of a PAM return code ("PAM_AUTH_ERR").
const char* pam_code_name(int code) noexcept;

} // namespace pam_oauth2
