#include "settings_parser.hpp"

#include "config_reader.hpp"
#include "logger.hpp"
#include "option_table.hpp"
#include "settings_validation.hpp"
#include "text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace pam_oauth2 {
namespace {

struct KeyValue {
    std::string_view key;
    std::optional<std::string_view> value; // nullopt for a bare key
};

KeyValue split_argument(std::string_view item)
{
    // Linux-PAM strips the brackets of [key=value with spaces]; accept them anyway for hand-made argv.
    if (item.size() >= 2 && item.front() == '[' && item.back() == ']') {
        item = item.substr(1, item.size() - 2);
    }
    const auto equals = item.find('=');
    KeyValue pair{item.substr(0, equals), std::nullopt};
    if (equals != std::string_view::npos) {
        pair.value = item.substr(equals + 1);
    }
    return pair;
}

// Where a value is being read: what its error messages start with, the origin it records, and the
// rules of the place (module arguments sit in world-readable /etc/pam.d files).
struct Place {
    bool in_file = false;
    bool in_issuer_section = false;
    std::string error_prefix; // "conf file PATH line N: ", or "" for an argument
    std::string origin;       // as OptionOrigins records it
    std::string file;         // "conf file PATH", or "" for an argument
    int line = 0;             // the file's line number
};

Place argument_place()
{
    return Place{false, false, "", "argument", "", 0};
}

Place file_place(const std::string& path, int line, const std::string& section)
{
    const std::string at = "conf file " + path;
    return Place{true,
                 !section.empty(),
                 at + " line " + std::to_string(line) + ": ",
                 at + (section.empty() ? "" : " [issuer " + section + "]") + " line " + std::to_string(line),
                 at,
                 line};
}

bool is_name_character(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
}

// An unknown key, as an error may show it. A file's line is never echoed (the file may be /etc/shadow
// named as conf=, or the line a mistyped `client_secret: X`): only its number. An argument is the
// administrator's own pam.d line, so its key is named, but only up to the first character a key
// cannot hold: a bare `client_secret:X` or `token=...` typo never carries its value into the log.
std::string unknown_key_problem(std::string_view key, std::optional<std::string_view> value, const Place& place)
{
    if (place.in_file) {
        return place.file + " " + unknown_line(ConfigLine{place.line, false, key, value}, "option");
    }
    const auto name_end = std::find_if_not(key.begin(), key.end(), is_name_character);
    const std::string shown(key.begin(), name_end);
    return "unknown option '" + shown + (name_end == key.end() ? "'" : "...'");
}

// Whether `spec` may be given at `place`: a problem worded to follow the place's prefix.
std::optional<std::string> refused_here(const OptionSpec& spec, const Place& place)
{
    const std::string key(spec.name);
    if (spec.source == OptionSource::FileOnly && !place.in_file) {
        return "option " + key +
               " is not accepted as a module argument; put it in a conf= file that is not world-readable";
    }
    if (spec.source == OptionSource::ArgumentOnly && place.in_file) {
        return key + "= cannot be nested";
    }
    if (place.in_issuer_section && !spec.per_issuer) {
        return "option " + key + " applies to every login; set it before the first [issuer] section";
    }
    return std::nullopt;
}

// Sets one option through the table and records where its value came from.
std::optional<ConfigError> apply(Settings& settings, OptionOrigins& origins, KeyValue item, const Place& place)
{
    const OptionSpec* spec = find_option(item.key);
    if (spec == nullptr) {
        // Fail closed: a typo such as `group=` must not silently drop a restriction.
        return ConfigError{unknown_key_problem(item.key, item.value, place), place.in_file};
    }
    if (auto problem = refused_here(*spec, place)) {
        return ConfigError{place.error_prefix + *problem, place.in_file};
    }
    if (auto problem = spec->set(settings, item.value)) {
        return ConfigError{place.error_prefix + "option " + std::string(item.key) + " " + *problem, place.in_file};
    }
    origins[std::string(spec->name)] = place.origin;
    return std::nullopt;
}

// The form of the module this one replaces (please-openit/pam-oauth2, the seed article):
//   pam_oauth2.so https://idp/realms/acme/protocol/openid-connect/userinfo preferred_username
// A first argument that is an http(s) URL is userinfo_url, and a following bare word that is not an
// option is username_claim. Returns how many arguments it took; everything else is read as usual.
std::size_t apply_positional(Settings& settings, OptionOrigins& origins, const std::vector<std::string_view>& args)
{
    const auto is_url = [](std::string_view arg) {
        return arg.substr(0, 8) == "https://" || arg.substr(0, 7) == "http://";
    };
    if (args.empty() || !is_url(args[0])) {
        return 0;
    }
    settings.endpoints.userinfo_url = std::string(args[0]);
    origins["userinfo_url"] = "argument 1 (seed form)";
    if (args.size() > 1 && !args[1].empty() && args[1].find_first_of("=[") == std::string_view::npos &&
        find_option(args[1]) == nullptr) {
        settings.users.username_claim = std::string(args[1]);
        origins["username_claim"] = "argument 2 (seed form)";
        return 2;
    }
    return 1;
}

// One walk over the conf= file's lines: shared lines into the shared settings; at the first section
// (or the end) the arguments go over them and they are validated; each section then starts from a
// copy of the shared settings and is validated when the next one starts (or at the end).
class SettingsWalk {
public:
    // Without `validate` the walk only reads and records (for option_origins on any configuration).
    SettingsWalk(const std::vector<std::string_view>& args, const ConfigFileText* file, bool validate = true)
        : args_(args), file_(file), path_(file != nullptr ? file->path : ""), validate_(validate)
    {
    }

    std::variant<ParsedSettings, ConfigError> run()
    {
        std::vector<ConfigLine> lines;
        if (file_ != nullptr) {
            auto read = read_config_lines(file_->text, "issuer");
            if (auto* error = std::get_if<ConfigSyntaxError>(&read)) {
                return ConfigError{where(error->number) + error->problem, true};
            }
            lines = std::move(std::get<std::vector<ConfigLine>>(read));
        }
        const bool sections = std::any_of(lines.begin(), lines.end(), [](const auto& line) { return line.section; });
        for (const auto& line : lines) {
            if (auto error = line.section ? start_section(line) : apply_line(line)) {
                return *error;
            }
        }
        if (auto error = section_ ? finish_section() : finish_shared(sections)) {
            return *error;
        }
        return std::move(result_);
    }

private:
    [[nodiscard]] std::string where(int line) const
    {
        return "conf file " + path_ + " line " + std::to_string(line) + ": ";
    }

    std::optional<ConfigError> apply_line(const ConfigLine& line)
    {
        auto& target = section_ ? *section_ : shared_;
        return apply(target.settings, target.origins, {line.key, line.value},
                     file_place(path_, line.number, section_ ? section_->name : ""));
    }

    std::optional<ConfigError> start_section(const ConfigLine& line)
    {
        if (auto error = section_ ? finish_section() : finish_shared(true)) {
            return error;
        }
        const std::string name(line.key);
        for (const auto& done : result_.issuers) {
            if (done.name == name) {
                return ConfigError{where(line.number) + "section [issuer " + name + "] twice", true};
            }
        }
        section_ = IssuerSettings{name, result_.settings, result_.origins};
        return std::nullopt;
    }

    std::optional<ConfigError> finish_shared(bool sections_follow);
    std::optional<ConfigError> finish_section();

    const std::vector<std::string_view>& args_;
    const ConfigFileText* file_;
    std::string path_; // the conf= file's, "" without one
    bool validate_;
    ParsedSettings result_;
    IssuerSettings shared_;                 // the shared lines read so far, before the arguments
    std::optional<IssuerSettings> section_; // the section being read
};

std::optional<ConfigError> SettingsWalk::finish_shared(bool sections_follow)
{
    result_.settings = std::move(shared_.settings);
    result_.settings.conf = path_;
    result_.origins = std::move(shared_.origins);
    auto& settings = result_.settings;
    if (file_ != nullptr && !settings.endpoints.client_secret.empty() && file_->world_readable) {
        return ConfigError{"conf file " + file_->path + " holds client_secret but is world-readable (chmod o-r)", true};
    }
    const std::size_t positional = apply_positional(settings, result_.origins, args_);
    for (std::size_t i = positional; i < args_.size(); ++i) {
        if (auto error = apply(settings, result_.origins, split_argument(args_[i]), argument_place())) {
            return error;
        }
    }
    if (!validate_) {
        return std::nullopt;
    }
    if (auto error = check_secret_endpoints(settings, result_.origins)) {
        return error;
    }
    if (sections_follow && !settings.uses(VerifyMethod::Jwt)) {
        return ConfigError{"[issuer] sections in " + path_ + " need verify=jwt", true};
    }
    return validate_settings(settings, sections_follow);
}

std::optional<ConfigError> SettingsWalk::finish_section()
{
    auto own = std::move(*section_);
    section_.reset();
    const std::string where = "conf file " + path_ + " [issuer " + own.name + "]: ";
    if (!validate_) {
        result_.issuers.push_back(std::move(own));
        return std::nullopt;
    }
    if (own.settings.token.issuer.empty()) {
        return ConfigError{where + "needs issuer", true};
    }
    // A section inherits the arguments' values of the keys it does not set itself.
    if (auto error = check_secret_endpoints(own.settings, own.origins)) {
        return ConfigError{where + error->message, false};
    }
    for (const auto& other : result_.issuers) {
        if (other.settings.token.issuer == own.settings.token.issuer) {
            return ConfigError{
                where + "issuer " + own.settings.token.issuer + " is also that of [issuer " + other.name + "]", true};
        }
    }
    if (auto error = validate_settings(own.settings)) {
        return ConfigError{where + error->message, true};
    }
    result_.issuers.push_back(std::move(own));
    return std::nullopt;
}

const char* source_name(OptionSource source)
{
    switch (source) {
    case OptionSource::Anywhere: return "anywhere";
    case OptionSource::FileOnly: return "conf file only";
    case OptionSource::ArgumentOnly: return "argument only";
    }
    return "anywhere";
}

} // namespace

const char* method_name(VerifyMethod method) noexcept
{
    switch (method) {
    case VerifyMethod::Jwt: return "jwt";
    case VerifyMethod::Introspect: return "introspect";
    case VerifyMethod::Userinfo: return "userinfo";
    }
    return "unknown";
}

std::optional<std::string> argument_value(const std::vector<std::string_view>& args, std::string_view name)
{
    std::optional<std::string> found;
    for (const auto arg : args) {
        const auto [key, value] = split_argument(arg);
        if (key == name && value && !value->empty()) {
            found = std::string(*value);
        }
    }
    return found;
}

std::optional<std::string> conf_path_from_args(const std::vector<std::string_view>& args)
{
    return argument_value(args, "conf");
}

std::variant<ParsedSettings, ConfigError> parse_all_settings(const std::vector<std::string_view>& args,
                                                             const ConfigFileText* file)
{
    return SettingsWalk(args, file).run();
}

std::variant<Settings, ConfigError> parse_settings(const std::vector<std::string_view>& args,
                                                   const ConfigFileText* file)
{
    auto parsed = parse_all_settings(args, file);
    if (auto* error = std::get_if<ConfigError>(&parsed)) {
        return *error;
    }
    return std::move(std::get<ParsedSettings>(parsed).settings);
}

std::variant<std::vector<IssuerSettings>, ConfigError> parse_issuer_sections(const std::vector<std::string_view>& args,
                                                                             const ConfigFileText& file)
{
    auto parsed = parse_all_settings(args, &file);
    if (auto* error = std::get_if<ConfigError>(&parsed)) {
        return *error;
    }
    return std::move(std::get<ParsedSettings>(parsed).issuers);
}

OptionOrigins option_origins(const std::vector<std::string_view>& args, const ConfigFileText* file,
                             const std::string& section)
{
    auto parsed = SettingsWalk(args, file, false).run();
    auto* settings = std::get_if<ParsedSettings>(&parsed);
    if (settings == nullptr) {
        return {};
    }
    for (auto& issuer : settings->issuers) {
        if (issuer.name == section) {
            return std::move(issuer.origins);
        }
    }
    return std::move(settings->origins);
}

std::string describe_settings(const Settings& settings)
{
    std::string out;
    for (const auto& spec : option_table()) {
        out.append(out.empty() ? "" : " ").append(spec.name).append("=").append(log_value(spec.show(settings)));
    }
    return out;
}

std::string list_options_json()
{
    const Settings defaults;
    auto listing = nlohmann::json::array();
    for (const auto& spec : option_table()) {
        listing.push_back({{"name", spec.name},
                           {"group", spec.group},
                           {"default", spec.show(defaults)},
                           {"source", source_name(spec.source)},
                           {"secret", spec.secret},
                           {"per_issuer", spec.per_issuer},
                           {"summary", spec.summary}});
    }
    return listing.dump(2);
}

} // namespace pam_oauth2
