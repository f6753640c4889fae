#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pam_oauth2 {

// What `pam_oauth2_check --dry-run` found: {"checks": [{"check", "holds", "detail"}...], "holds",
// "exit"}. Exit 0 when every check holds, 3 when the configuration does not load, 2 when the identity
// provider cannot be used as configured (unreachable, unparseable, TLS not trusted, clocks apart).
struct DryRunReport {
    nlohmann::json report;
    int exit = 0;
};

/// Checks the module arguments `args` without a token: they load (options, conf= and username_map
/// files with their ownership and permissions), each configured method's provider endpoint answers
/// over TLS with the configured trust (discovery and JWKS fetched and parsed for jwt, of every
/// [issuer] section too), and the provider's Date agrees with this clock within the leeway.
/// Nothing is written to the cache.
DryRunReport dry_run(const std::vector<std::string>& args);

} // namespace pam_oauth2
