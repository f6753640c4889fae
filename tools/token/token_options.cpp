#include "token_options.hpp"

#include "config_file.hpp"
#include "config_reader.hpp"
#include "key_hash.hpp"
#include "text.hpp"
#include "user_directories.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>

namespace pam_oauth2::token {
namespace {

using Setter = std::function<std::optional<std::string>(TokenOptions&, const std::string&)>;

std::optional<std::string> seconds(const std::string& value, long long& into, long long most)
{
    char* end = nullptr;
    errno = 0;
    const long long parsed = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno != 0 || parsed < 0 || parsed > most) {
        return "must be a number of seconds from 0 to " + std::to_string(most);
    }
    into = parsed;
    return std::nullopt;
}

// A setting that takes any text.
Setter text(std::string TokenOptions::*field)
{
    return [field](TokenOptions& options, const std::string& value) {
        options.*field = value;
        return std::optional<std::string>();
    };
}

// A setting that takes one of `allowed`.
Setter one_of(std::string TokenOptions::*field, std::vector<std::string> allowed)
{
    return [field, allowed = std::move(allowed)](TokenOptions& options, const std::string& value) {
        options.*field = value;
        return std::find(allowed.begin(), allowed.end(), value) != allowed.end()
                   ? std::nullopt
                   : std::optional<std::string>("is not one of the accepted values");
    };
}

// An account is a name the person chooses (often the e-mail address) and sends as login_hint.
std::optional<std::string> account_name(TokenOptions& options, const std::string& value)
{
    constexpr std::size_t longest = 256;
    options.account = value;
    const bool control = std::any_of(value.begin(), value.end(),
                                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
    if (value.empty() || value.size() > longest || control) {
        return {"must be a name of 1 to 256 characters, none of them a control character"};
    }
    return std::nullopt;
}

// A setting that takes true or false.
Setter yes_no(bool TokenOptions::*field)
{
    return [field](TokenOptions& options, const std::string& value) {
        options.*field = value == "true";
        return value == "true" || value == "false" ? std::nullopt : std::optional<std::string>("must be true or false");
    };
}

// redirect_ports: the ports to try in order, for providers that need the redirect URI registered.
std::optional<std::string> port_list(TokenOptions& options, const std::string& value)
{
    options.redirect_ports.clear();
    for (const auto& item : split_list(value)) {
        long long port = 0;
        if (seconds(item, port, 65535) || port == 0) {
            return "must be a comma-separated list of ports from 1 to 65535";
        }
        options.redirect_ports.push_back(static_cast<int>(port));
    }
    return options.redirect_ports.empty() ? std::optional<std::string>("must name at least one port") : std::nullopt;
}

// The settings a profile and the command line share, by their profile key (the option without --
// and with _ for -).
const std::map<std::string, Setter>& settings()
{
    static const std::map<std::string, Setter> table{
        {"issuer", text(&TokenOptions::issuer)},
        {"client_id", text(&TokenOptions::client_id)},
        {"scope", text(&TokenOptions::scope)},
        {"audience", text(&TokenOptions::audience)},
        {"resource", text(&TokenOptions::resource)},
        {"ca_file", text(&TokenOptions::ca_file)},
        {"store", one_of(&TokenOptions::store, {"auto", "keyring", "file"})},
        {"qr", one_of(&TokenOptions::qr, {"auto", "always", "never"})},
        {"min_valid", [](TokenOptions& o, const std::string& v) { return seconds(v, o.min_valid, 3600); }},
        {"timeout",
         [](TokenOptions& o, const std::string& v) {
             long long parsed = 0;
             auto problem = seconds(v, parsed, 120);
             o.timeout_seconds = static_cast<long>(parsed);
             return problem ? problem : parsed == 0 ? std::optional<std::string>("must be at least 1") : std::nullopt;
         }},
        {"env", text(&TokenOptions::variable)},
        {"account", account_name},
        {"flow", one_of(&TokenOptions::flow, {"auto", "browser", "device"})},
        {"allow_device_flow", yes_no(&TokenOptions::allow_device_flow)},
        {"redirect_ports", port_list},
        {"redirect_host", one_of(&TokenOptions::redirect_host, {"127.0.0.1", "localhost"})},
        {"browser", text(&TokenOptions::browser)},
        {"sign_in_timeout",
         [](TokenOptions& o, const std::string& v) {
             auto problem = seconds(v, o.sign_in_timeout, 3600);
             return problem                  ? problem
                    : o.sign_in_timeout == 0 ? std::optional<std::string>("must be at least 1")
                                             : std::nullopt;
         }},
        {"prompt", one_of(&TokenOptions::prompt, {"auto", "consent", "login", "select_account", "none-sent"})},
    };
    return table;
}

std::string default_config_file()
{
    const std::string base = xdg_base_directory("XDG_CONFIG_HOME", ".config");
    return base.empty() ? "" : base + "/pam_oauth2/token.conf";
}

// The profile file as an absolute path, for the trusted opener (a --config given relative is taken
// from the working directory).
std::string absolute(const std::string& path)
{
    if (path.empty() || path.front() == '/') {
        return path;
    }
    char here[4096];
    return ::getcwd(here, sizeof here) != nullptr ? std::string(here) + "/" + path : path;
}

// The profile file, opened like every trusted file of the project (no symlink, checked on the opened
// descriptor, directories on the way safe), owned by the caller or root: it decides where a sign-in
// goes. nullopt in `text` with no error: there is no file and none was asked for.
std::optional<OptionsError> read_profile_file(const std::string& path, bool named_explicitly,
                                              std::optional<ConfigFileText>& text)
{
    auto read = read_trusted_file(absolute(path), TrustRule{::geteuid(), true, "profile file"});
    if (auto* problem = std::get_if<FileProblem>(&read)) {
        if (problem->absent) {
            return named_explicitly ? std::optional(OptionsError{"cannot read " + path + ": no such file", 3})
                                    : std::nullopt;
        }
        return OptionsError{problem->message + "; " + path +
                                " must be a regular file owned by you (or root) and writable by no one else: it "
                                "decides where your sign-in goes",
                            3};
    }
    text = std::move(std::get<ConfigFileText>(read));
    return std::nullopt;
}

// `[profile NAME]` sections of `key = value` lines; keys before the first section apply to all.
std::optional<OptionsError> apply_profile(TokenOptions& options, const std::string& path, bool named_explicitly)
{
    std::optional<ConfigFileText> file;
    if (auto problem = read_profile_file(path, named_explicitly, file); problem || !file) {
        return problem;
    }
    auto read = read_config_lines(file->text, "profile");
    if (auto* error = std::get_if<ConfigSyntaxError>(&read)) {
        return OptionsError{path + " line " + std::to_string(error->number) + ": " + error->problem, 3};
    }
    // Without -p the [profile default] section applies, when the file has one.
    const std::string wanted = options.profile.empty() ? "default" : options.profile;
    bool found = options.profile.empty();
    std::string_view section;
    for (const auto& line : std::get<std::vector<ConfigLine>>(read)) {
        if (line.section) {
            section = line.key;
            found = found || section == wanted;
            continue;
        }
        if (!section.empty() && section != wanted) {
            continue;
        }
        const std::string where = path + " line " + std::to_string(line.number) + ": ";
        const std::string key(line.key);
        const auto setter = settings().find(key);
        if (setter == settings().end()) {
            // Only the line's number: the file's content is never echoed (see unknown_line).
            return OptionsError{path + " " + unknown_line(line, "setting"), 3};
        }
        if (!line.value) {
            return OptionsError{where + key + " needs a value (key = value)", 3};
        }
        if (auto problem = setter->second(options, std::string(*line.value))) {
            return OptionsError{where + key + " " + *problem, 3};
        }
    }
    if (!found) {
        return OptionsError{"no [profile " + options.profile + "] in " + path, 3};
    }
    return std::nullopt;
}

// --status, --logout, --all and --json go together only in these ways.
std::optional<OptionsError> check_account_flags(const TokenOptions& options)
{
    const auto usage = [](std::string message) { return std::optional(OptionsError{std::move(message), 4}); };
    if (options.status && options.logout) {
        return usage("--status and --logout exclude each other");
    }
    if ((options.status || options.logout) && !options.command.empty()) {
        return usage(std::string(options.status ? "--status" : "--logout") + " takes no command");
    }
    if (options.all && !options.logout) {
        return usage("--all goes with --logout");
    }
    if (options.all && !options.account.empty()) {
        return usage("--logout --all signs out every account: it takes no --account");
    }
    if (options.json && !options.status) {
        return usage("--json goes with --status");
    }
    return std::nullopt;
}

} // namespace

std::variant<TokenOptions, OptionsError> read_options(int argc, char** argv)
{
    TokenOptions options;
    // The profile and the config file first, so that every other flag overrides the profile.
    std::vector<std::pair<std::string, std::string>> given;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--") {
            options.command.assign(argv + i + 1, argv + argc);
            if (options.command.empty()) {
                return OptionsError{"-- needs a command to run", 4};
            }
            break;
        }
        if (flag == "--help" || flag == "-h") {
            options.help = true;
        } else if (flag == "--version") {
            options.version = true;
        } else if (flag == "--no-prompt") {
            options.no_prompt = true;
        } else if (flag == "--logout") {
            options.logout = true;
        } else if (flag == "--passfile") {
            options.passfile = true;
        } else if (flag == "--status" || flag == "--json" || flag == "--all") {
            (flag == "--status" ? options.status : flag == "--json" ? options.json : options.all) = true;
        } else if (flag == "--no-browser") {
            options.no_browser = true;
        } else if (flag.rfind("--", 0) == 0 || flag == "-p") {
            if (i + 1 >= argc) {
                return OptionsError{flag + " needs a value", 4};
            }
            std::string key = flag == "-p" ? "profile" : flag.substr(2);
            std::replace(key.begin(), key.end(), '-', '_');
            const std::string value = argv[++i];
            if (key == "profile") {
                options.profile = value;
            } else if (key == "config") {
                options.config_file = value;
            } else if (settings().count(key) == 0) {
                return OptionsError{"unknown option " + flag, 4};
            } else {
                given.emplace_back(key, value);
            }
        } else {
            return OptionsError{"unexpected argument '" + printable(flag) + "' (a command goes after --)", 4};
        }
    }
    if (options.help || options.version) {
        return options;
    }
    const bool named = !options.config_file.empty();
    const std::string path = named ? options.config_file : default_config_file();
    if (!path.empty()) {
        if (auto problem = apply_profile(options, path, named || !options.profile.empty())) {
            return *problem;
        }
    }
    for (const auto& [key, value] : given) {
        if (auto problem = settings().at(key)(options, value)) {
            return OptionsError{"--" + key + " " + *problem, 4};
        }
    }
    if (auto problem = check_account_flags(options)) {
        return *problem;
    }
    if (options.status && options.issuer.empty() && options.client_id.empty() && options.profile.empty()) {
        options.profile_known = false; // --status alone: every kept sign-in
    } else if (options.issuer.empty() || options.client_id.empty()) {
        return OptionsError{"no issuer and client id: give --issuer and --client-id, or a profile with -p", 3};
    }
    if (options.passfile && options.variable != "PGPASSWORD") {
        return OptionsError{"--passfile and --env exclude each other", 4};
    }
    if ((options.passfile || options.variable != "PGPASSWORD") && options.command.empty()) {
        return OptionsError{"--passfile and --env go with a command after --", 4};
    }
    return options;
}

std::string profile_key(const TokenOptions& options)
{
    const std::string identity = options.issuer + "\n" + options.client_id + "\n" + options.scope + "\n" +
                                 options.audience + "\n" + options.resource;
    return key_hash_hex(identity).substr(0, 16); // the key of earlier versions: same digest
}

std::string sign_in_key(const TokenOptions& options)
{
    return options.account.empty() ? profile_key(options)
                                   : profile_key(options) + "-" + key_hash_hex(options.account).substr(0, 16);
}

} // namespace pam_oauth2::token
