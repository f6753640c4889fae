#pragma once

#include "config_error.hpp"
#include "settings.hpp"

#include <map>
#include <optional>
#include <string>

namespace pam_oauth2 {

/// The cross-key rules of one complete Settings (URL policy, what each method needs, the audience,
/// issuer templates, algorithms, claim names). With `jwt_issuers_in_sections` the jwt method takes
/// its issuer and audience from the [issuer] sections, each validated on its own. The first broken
/// rule, worded for the administrator; nullopt when the settings are usable.
std::optional<ConfigError> validate_settings(const Settings& settings, bool jwt_issuers_in_sections = false);

/// The endpoints of a configuration whose client secret comes from its conf= file are that file's:
/// none of them (userinfo_url, introspection_url, jwks_url, discovery_url, issuer) may have been set
/// by a module argument, `origins` telling where each value came from (OptionOrigins). Otherwise
/// whoever writes the arguments (a peer of pam_oauth2d naming another service's file) could send the
/// client credentials, or a request made with them, to a host of its choosing. The error names the
/// option, never a value.
std::optional<ConfigError> check_secret_endpoints(const Settings& settings,
                                                  const std::map<std::string, std::string>& origins);

} // namespace pam_oauth2
