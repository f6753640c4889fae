#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace pam_oauth2 {

// The steps of one decision, in order, as `pam_oauth2_check --explain` and `--json` show them: which
// method applied, each document read from a cache or fetched, each HTTP exchange, the key that
// verified a signature, each claim rule and its result. Front ends that do not explain (the module,
// pam_oauth2d) set no trace, and then no step is built.
// Steps never hold the token or a secret: URLs, statuses, key ids, the provider's claims.
class Trace {
public:
    /// Appends `{"step": step, ...detail}`; `detail` must be an object.
    void add(const std::string& step, const nlohmann::json& detail);
    /// Every step so far, as a JSON array.
    [[nodiscard]] const nlohmann::json& steps() const noexcept { return steps_; }

private:
    nlohmann::json steps_ = nlohmann::json::array();
};

} // namespace pam_oauth2
