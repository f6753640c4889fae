#pragma once

#include "secure_string.hpp"

#include <openssl/crypto.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pam_oauth2 {

enum class VerifyMethod { Jwt, Introspect, Userinfo };
enum class LogTarget { Syslog, Stderr };

/// Name of a method as written in `verify=` and in log lines.
const char* method_name(VerifyMethod method) noexcept;

// The effective configuration of one module invocation (DESIGN.md section 2). Defaults here are the
// documented defaults; tests flip each of them.
struct Options {
    std::vector<VerifyMethod> verify{VerifyMethod::Userinfo};
    std::string userinfo_url;
    std::string introspection_url;
    std::string client_id;
    SecureString client_secret;
    std::string issuer;
    std::string jwks_url;
    std::string audience;
    std::vector<std::string> scope;
    std::string username_claim = "preferred_username";
    bool case_insensitive = false;
    std::string username_map;
    std::vector<std::string> deny_users{"root", "postgres"};
    std::string groups_claim = "groups";
    std::vector<std::string> groups;
    std::vector<std::pair<std::string, std::string>> require_claims;
    std::vector<std::string> algorithms{"RS256", "RS384", "RS512", "PS256", "PS384",
                                        "PS512", "ES256", "ES384", "ES512", "EdDSA"};
    long leeway_seconds = 60;
    std::string ca_file;
    std::string ca_path;
    long timeout_ms = 5000;
    long connect_timeout_ms = 2000;
    bool allow_http = false;
    std::string cache_dir = "/var/cache/pam_oauth2";
    long cache_ttl_seconds = 60;
    bool use_first_pass = false;
    bool try_first_pass = false;
    std::string prompt = "Access token: ";
    std::size_t max_token_bytes = 65535;
    bool debug = false;
    LogTarget log = LogTarget::Syslog;
    std::string conf;
};

// A configuration mistake, worded for the administrator who made it (names the key and source).
struct ConfigError {
    std::string message;
    bool in_file = false; // a broken conf= file is logged at LOG_ALERT, a bad argument at LOG_ERR
};

// The text of a conf= file as read by read_config_file, with what the secret rules need to know.
// The text may hold client_secret, so it is wiped when the value dies (copies included).
struct ConfigFileText {
    std::string path;
    std::string text;
    bool world_readable = false;
    ~ConfigFileText() { OPENSSL_cleanse(text.data(), text.size()); }
};

/// The value of the `conf=` module argument, if any; it must be read before parse_options.
std::optional<std::string> conf_path_from_args(const std::vector<std::string_view>& args);

/// Pure parse: the conf= file (if given) first, then the module arguments overriding it, then
/// cross-key validation. Unknown keys and malformed values are errors, never guesses.
std::variant<Options, ConfigError> parse_options(const std::vector<std::string_view>& args, const ConfigFileText* file);

/// The effective configuration as one line for debug logs; secret values show as <redacted>.
std::string describe_options(const Options& options);

} // namespace pam_oauth2
