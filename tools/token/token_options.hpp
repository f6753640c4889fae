#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pam_oauth2::token {

// Everything one call of pam_oauth2_token needs: from the command line over the profile.
struct TokenOptions {
    std::string profile;     // -p NAME; "default" is used when the file has it and none is named
    std::string config_file; // --config FILE, else $XDG_CONFIG_HOME/pam_oauth2/token.conf
    std::string issuer;
    std::string client_id;
    std::string scope = "openid offline_access";
    std::string audience;
    std::string resource;
    std::string ca_file;
    std::string store = "auto"; // auto, keyring, file
    std::string qr = "auto";    // auto, always, never
    long long min_valid = 60;   // an access token with less left is not handed out again
    long timeout_seconds = 10;
    bool no_prompt = false;
    bool logout = false;
    bool passfile = false;
    std::string variable = "PGPASSWORD";
    std::vector<std::string> command; // after --
    bool help = false;
    bool version = false;
    // Accounts, status and logout (pam_oauth2_token(1) ACCOUNTS).
    std::string account;       // --account NAME: one of several sign-ins of this profile; empty: the default one
    bool status = false;       // --status: what is kept, no network
    bool json = false;         // --status --json
    bool all = false;          // --logout --all: every account of the profile
    bool profile_known = true; // false: --status with no issuer and client (every kept sign-in is shown)
    // How a sign-in is made (the browser flow of RFC 8252 first, the device flow where allowed).
    std::string flow = "auto"; // auto (browser with a display or $BROWSER, else device), browser, device
    bool allow_device_flow = true;
    std::vector<int> redirect_ports;         // empty: an ephemeral port
    std::string redirect_host = "127.0.0.1"; // or localhost (Entra registers http://localhost)
    std::string browser;                     // the command that opens the URL; else $BROWSER, xdg-open
    bool no_browser = false;                 // only print the URL
    long long sign_in_timeout = 300;         // how long the browser flow waits for the redirect
    std::string prompt = "auto";             // auto: consent when offline_access is asked (OIDC Core 11)
};

// A command line that could not be understood (exit 4), or a profile that could not be used (exit 3).
struct OptionsError {
    std::string message;
    int exit_code;
};

/// The options of this call: the profile's keys (from the config file, when there is one), then the
/// command line over them. The config file is opened like every trusted file (not through a symlink,
/// in directories only root or the caller can write) and must be owned by the caller or root and
/// writable by no one else: it decides where a sign-in goes.
std::variant<TokenOptions, OptionsError> read_options(int argc, char** argv);

/// What identifies the sign-ins of one profile: the first 16 hex digits of SHA-256 over issuer,
/// client, scope, audience and resource.
std::string profile_key(const TokenOptions& options);

/// What identifies one stored sign-in: profile_key, and for a named account "-" and the first 16 hex
/// digits of SHA-256 over its name (the default account keeps the key of earlier versions).
std::string sign_in_key(const TokenOptions& options);

} // namespace pam_oauth2::token
