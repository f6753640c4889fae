#pragma once

#include "config_error.hpp"
#include "config_file.hpp"
#include "settings.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

/// Where each option given a value was set: option name -> "argument", "argument 1 (seed form)",
/// "argument 2 (seed form)", "conf file PATH line N" or "conf file PATH [issuer NAME] line N" (the
/// last place wins, as in parsing). Options absent from the map have their default.
using OptionOrigins = std::map<std::string, std::string>;

// The settings for the tokens of one issuer: the shared keys, the arguments, then the keys of its
// [issuer NAME] section of the conf= file; and where each of its values came from.
struct IssuerSettings {
    std::string name;
    Settings settings;
    OptionOrigins origins;
};

// Everything one walk over the arguments and the conf= file builds, each part validated once.
struct ParsedSettings {
    Settings settings;                   // the shared keys, then the arguments over them
    OptionOrigins origins;               // where each value of `settings` came from
    std::vector<IssuerSettings> issuers; // the [issuer NAME] sections, in file order
};

/// The value of the last `name=` module argument (bracketed or not), as parsing would apply it; nullopt
/// when absent or empty (a bare `name`, which parsing then reports as a key without a value).
std::optional<std::string> argument_value(const std::vector<std::string_view>& args, std::string_view name);
/// argument_value(args, "conf").
std::optional<std::string> conf_path_from_args(const std::vector<std::string_view>& args);

/// Pure parse, in one walk: the conf= file's shared keys (if given) first, then the module arguments
/// over them, then each [issuer NAME] section over a copy of that. Each value's origin is recorded as
/// it is set. Unknown keys and malformed values are errors, never guesses; the shared settings and
/// each section are validated once, and the first problem is the one returned.
std::variant<ParsedSettings, ConfigError> parse_all_settings(const std::vector<std::string_view>& args,
                                                             const ConfigFileText* file);

/// The shared settings of parse_all_settings (with [issuer] sections in the file, jwt takes issuer
/// and audience from them).
std::variant<Settings, ConfigError> parse_settings(const std::vector<std::string_view>& args,
                                                   const ConfigFileText* file);

/// The [issuer NAME] sections of parse_all_settings, each complete and validated on its own (its
/// issuer is required and unique). Empty when the file has none.
std::variant<std::vector<IssuerSettings>, ConfigError> parse_issuer_sections(const std::vector<std::string_view>& args,
                                                                             const ConfigFileText& file);

/// The origins parse_all_settings records, for pam_oauth2_check --explain: of the shared settings,
/// or of the [issuer `section`] section's (the shared ones when there is no such section). The same
/// walk, without the cross-key validation; empty when a key or value cannot be read at all.
OptionOrigins option_origins(const std::vector<std::string_view>& args, const ConfigFileText* file,
                             const std::string& section = "");

/// The effective configuration as one line for debug logs: every option of the table, in its order,
/// as `key=value`; secret values show as <redacted>.
std::string describe_settings(const Settings& settings);

/// Every option as a JSON array of {name, group, default, source, secret, per_issuer, summary}, for scripts and
/// for the test that keeps the documentation in step with the table.
std::string list_options_json();

} // namespace pam_oauth2
