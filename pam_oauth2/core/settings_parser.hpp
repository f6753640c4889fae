#pragma once

#include "config_error.hpp"
#include "settings.hpp"

#include <openssl/crypto.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

// The text of a conf= file as read by read_config_file, with what the secret rules need to know.
// The text may hold client_secret, so it is wiped when the value dies (copies included).
struct ConfigFileText {
    std::string path;
    std::string text;
    bool world_readable = false;
    ~ConfigFileText() { OPENSSL_cleanse(text.data(), text.size()); }
};

/// The value of the `conf=` module argument (bracketed or not), if any; nullopt also for a bare
/// `conf`, which parse_settings then reports as a key without a value.
std::optional<std::string> conf_path_from_args(const std::vector<std::string_view>& args);

/// Pure parse: the conf= file's shared keys (if given) first, then the module arguments overriding
/// them, then cross-key validation. Unknown keys and malformed values are errors, never guesses.
/// With [issuer] sections in the file, jwt takes issuer and audience from them (parse_issuer_sections).
std::variant<Settings, ConfigError> parse_settings(const std::vector<std::string_view>& args,
                                                   const ConfigFileText* file);

// The settings for the tokens of one issuer: the shared keys, the arguments, then the keys of its
// [issuer NAME] section of the conf= file.
struct IssuerSettings {
    std::string name;
    Settings settings;
};

/// The [issuer NAME] sections of a conf= file, each complete and validated on its own (its issuer is
/// required and unique). Empty when the file has none.
std::variant<std::vector<IssuerSettings>, ConfigError> parse_issuer_sections(const std::vector<std::string_view>& args,
                                                                             const ConfigFileText& file);

/// Where each option given a value was set, for pam_oauth2_check --explain: option name -> "argument",
/// "argument 1 (seed form)", "conf file PATH line N" or, for `section`, "conf file PATH [issuer NAME]
/// line N" (the last place wins, as in parsing). Options absent from the map have their default.
/// Reads the same layout parse_settings does; call it only on a configuration that loaded.
std::map<std::string, std::string> option_origins(const std::vector<std::string_view>& args, const ConfigFileText* file,
                                                  const std::string& section = "");

/// The effective configuration as one line for debug logs: every option of the table, in its order,
/// as `key=value`; secret values show as <redacted>.
std::string describe_settings(const Settings& settings);

/// Every option as a JSON array of {name, group, default, source, secret, per_issuer, summary}, for scripts and
/// for the test that keeps the documentation in step with the table.
std::string list_options_json();

} // namespace pam_oauth2
