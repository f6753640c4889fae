#pragma once

#include "config_error.hpp"
#include "config_file.hpp"
#include "settings.hpp"
#include "username_map.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

// A file a configuration was built from, as it was when read.
struct SourceFile {
    std::string path;
    FileIdentity identity;
};

// Everything a login needs from the configuration, complete and checked: the settings, and the
// username_map file read and compiled. Loading it is the only way the front ends get one.
struct Configuration {
    // The settings of one issuer's tokens ([issuer NAME] in the conf= file), its map compiled.
    struct Issuer {
        std::string name;
        Settings settings;
        std::optional<UsernameMap> username_map;
    };

    Settings settings;
    std::optional<UsernameMap> username_map;
    /// When not empty, jwt judges a token with the section whose issuer is the token's iss, and
    /// refuses tokens of any other issuer. Opaque tokens use `settings`.
    std::vector<Issuer> issuers;
    /// Every file read to build this (the conf= file first, then each username_map file once), with
    /// the identity fstat gave on the opened descriptor: the same arguments and files with the same
    /// identities give the same configuration.
    std::vector<SourceFile> files{};
};

/// The one configuration load, shared by the module and pam_oauth2_check: the conf= file named in
/// `args` (read safely), then the arguments over it, cross-key validation, then the username_map
/// file, and the same for each [issuer] section. The first problem found is the one configuration
/// error returned.
std::variant<Configuration, ConfigError> load_configuration(const std::vector<std::string_view>& args);

} // namespace pam_oauth2
