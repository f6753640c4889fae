#pragma once

#include "config_error.hpp"
#include "settings.hpp"

#include <optional>

namespace pam_oauth2 {

/// The cross-key rules of one complete Settings (URL policy, what each method needs, the audience,
/// issuer templates, algorithms, claim names). With `jwt_issuers_in_sections` the jwt method takes
/// its issuer and audience from the [issuer] sections, each validated on its own. The first broken
/// rule, worded for the administrator; nullopt when the settings are usable.
std::optional<ConfigError> validate_settings(const Settings& settings, bool jwt_issuers_in_sections = false);

} // namespace pam_oauth2
