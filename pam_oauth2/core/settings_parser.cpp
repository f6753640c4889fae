#include "settings_parser.hpp"

#include "claim_reference.hpp"
#include "jws.hpp"
#include "logger.hpp"
#include "option_table.hpp"
#include "text.hpp"
#include "url_policy.hpp"

#include <nlohmann/json.hpp>

namespace pam_oauth2 {
namespace {

enum class Source { Argument, File };

struct KeyValue {
    std::string_view key;
    std::optional<std::string_view> value; // nullopt for a bare key
};

KeyValue split_item(std::string_view item, Source source)
{
    // Linux-PAM strips the brackets of [key=value with spaces]; accept them anyway for hand-made argv.
    if (source == Source::Argument && item.size() >= 2 && item.front() == '[' && item.back() == ']') {
        item = item.substr(1, item.size() - 2);
    }
    const auto equals = item.find('=');
    KeyValue pair{source == Source::File ? trim(item.substr(0, equals)) : item.substr(0, equals), std::nullopt};
    if (equals != std::string_view::npos) {
        pair.value = source == Source::File ? trim(item.substr(equals + 1)) : item.substr(equals + 1);
    }
    return pair;
}

std::optional<ConfigError> apply(Settings& settings, std::string_view item, Source source, const std::string& where,
                                 bool in_issuer_section = false)
{
    const auto [key, value] = split_item(item, source);
    const bool in_file = source == Source::File;
    const OptionSpec* spec = find_option(key);
    if (spec == nullptr) {
        // Fail closed: a typo such as `group=` must not silently drop a restriction.
        return ConfigError{where + "unknown option '" + std::string(key) + "'", in_file};
    }
    if (spec->source == OptionSource::FileOnly && !in_file) {
        // Module arguments sit in world-readable /etc/pam.d files.
        return ConfigError{where + "option " + std::string(key) +
                               " is not accepted as a module argument; put it in a conf= file that is not "
                               "world-readable",
                           in_file};
    }
    if (spec->source == OptionSource::ArgumentOnly && in_file) {
        return ConfigError{where + std::string(key) + "= cannot be nested", in_file};
    }
    if (in_issuer_section && !spec->per_issuer) {
        return ConfigError{where + "option " + std::string(key) +
                               " applies to every login; set it before the first [issuer] section",
                           in_file};
    }
    if (auto problem = spec->set(settings, value)) {
        return ConfigError{where + "option " + std::string(key) + " " + *problem, in_file};
    }
    return std::nullopt;
}

// A line of the conf file without its comment: `#` at the start, or after a blank, starts one (as in
// the username_map file), so `deny_users = root,postgres   # never the superuser` means what it says.
std::string_view without_comment(std::string_view line)
{
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
            return trim(line.substr(0, i));
        }
    }
    return trim(line);
}

struct FileLine {
    int number;
    std::string_view text;
};

// An [issuer NAME] section: its keys apply to tokens whose iss is that section's issuer.
struct FileSection {
    std::string name;
    std::vector<FileLine> lines;
};

// The conf file as keys shared by every login, then the issuer sections.
struct FileLayout {
    std::vector<FileLine> shared;
    std::vector<FileSection> sections;
};

std::string where_in(const ConfigFileText& file, int line_number)
{
    return "conf file " + file.path + " line " + std::to_string(line_number) + ": ";
}

std::variant<FileLayout, ConfigError> layout_of(const ConfigFileText& file)
{
    FileLayout layout;
    std::string_view rest = file.text;
    int line_number = 0;
    while (!rest.empty()) {
        ++line_number;
        const auto newline = rest.find('\n');
        const auto line = without_comment(rest.substr(0, newline));
        rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
        if (line.empty()) {
            continue;
        }
        if (line.front() != '[') {
            (layout.sections.empty() ? layout.shared : layout.sections.back().lines).push_back({line_number, line});
            continue;
        }
        constexpr std::string_view header = "issuer ";
        const auto inside = line.back() == ']' ? trim(line.substr(1, line.size() - 2)) : std::string_view{};
        const auto name = inside.substr(0, header.size()) == header ? trim(inside.substr(header.size())) : "";
        if (name.empty() || name.find_first_of(" \t[]") != std::string_view::npos) {
            return ConfigError{where_in(file, line_number) + "a section is written [issuer NAME]", true};
        }
        for (const auto& section : layout.sections) {
            if (section.name == name) {
                return ConfigError{where_in(file, line_number) + "section [issuer " + std::string(name) + "] twice",
                                   true};
            }
        }
        layout.sections.push_back({std::string(name), {}});
    }
    return layout;
}

std::optional<ConfigError> apply_lines(Settings& settings, const std::vector<FileLine>& lines,
                                       const ConfigFileText& file, bool in_issuer_section)
{
    for (const auto& line : lines) {
        if (auto error = apply(settings, line.text, Source::File, where_in(file, line.number), in_issuer_section)) {
            return error;
        }
    }
    return std::nullopt;
}

// The form of the module this one replaces (please-openit/pam-oauth2, the seed article):
//   pam_oauth2.so https://idp/realms/acme/protocol/openid-connect/userinfo preferred_username
// A first argument that is an http(s) URL is userinfo_url, and a following bare word that is not an
// option is username_claim. Returns how many arguments it took; everything else is read as usual.
std::size_t apply_positional(Settings& settings, const std::vector<std::string_view>& args)
{
    const auto is_url = [](std::string_view arg) {
        return arg.substr(0, 8) == "https://" || arg.substr(0, 7) == "http://";
    };
    if (args.empty() || !is_url(args[0])) {
        return 0;
    }
    settings.endpoints.userinfo_url = std::string(args[0]);
    if (args.size() > 1 && !args[1].empty() && args[1].find_first_of("=[") == std::string_view::npos &&
        find_option(args[1]) == nullptr) {
        settings.users.username_claim = std::string(args[1]);
        return 2;
    }
    return 1;
}

// Cross-key rules. With `jwt_issuers_in_sections` the jwt method takes its issuer and audience from
// the [issuer] sections, each validated on its own.
std::optional<ConfigError> validate(const Settings& settings, bool jwt_issuers_in_sections = false)
{
    for (const auto& [key, url] :
         {std::pair<const char*, const std::string&>{"userinfo_url", settings.endpoints.userinfo_url},
          {"introspection_url", settings.endpoints.introspection_url},
          {"jwks_url", settings.jwt.jwks_url},
          {"discovery_url", settings.jwt.discovery_url},
          {"issuer", settings.token.issuer}}) {
        if (url.empty()) {
            continue;
        }
        if (auto problem = check_endpoint_url(url, settings.http.allow_http)) {
            return ConfigError{std::string("option ") + key + " " + *problem};
        }
    }
    const auto& endpoints = settings.endpoints;
    if (settings.uses(VerifyMethod::Userinfo) && endpoints.userinfo_url.empty()) {
        return ConfigError{"verify=userinfo needs userinfo_url"};
    }
    if (settings.uses(VerifyMethod::Introspect) &&
        (endpoints.introspection_url.empty() || endpoints.client_id.empty() || endpoints.client_secret.empty())) {
        return ConfigError{
            "verify=introspect needs introspection_url, client_id and client_secret (from a conf= file)"};
    }
    if (settings.uses(VerifyMethod::Jwt) && settings.token.issuer.empty() && !jwt_issuers_in_sections) {
        return ConfigError{"verify=jwt needs issuer (its JWKS is found through discovery unless jwks_url is set)"};
    }
    for (const auto method : {VerifyMethod::Jwt, VerifyMethod::Introspect}) {
        if (method == VerifyMethod::Jwt && jwt_issuers_in_sections) {
            continue;
        }
        // Fail closed: without an audience, any token the issuer ever signed for any application
        // (another API's access token, a single-page app's ID token) would open the database.
        if (settings.uses(method) && settings.token.audience.empty() && !settings.token.allow_any_audience) {
            return ConfigError{std::string("verify=") + method_name(method) +
                               " needs audience (the value your provider puts in aud for this service, e.g. "
                               "audience=postgres); set allow_any_audience only if every token of the issuer "
                               "may log in"};
        }
    }
    const bool template_issuer = settings.token.issuer.find("{tenantid}") != std::string::npos;
    if (template_issuer && (settings.token.tenants.empty() || settings.jwt.jwks_url.empty())) {
        // Multi-tenant (Entra): the template names no single issuer, so neither its discovery
        // document nor "any tenant" can be assumed.
        return ConfigError{"an issuer with {tenantid} needs tenants= (the tenant ids accepted) and jwks_url= "
                           "(e.g. https://login.microsoftonline.com/common/discovery/v2.0/keys)"};
    }
    if (!settings.token.tenants.empty() && !template_issuer) {
        return ConfigError{"option tenants needs an issuer with {tenantid}"};
    }
    for (const auto& algorithm : settings.jwt.algorithms) {
        // none and HMAC are refused outright: an HMAC "key" would be the issuer's public key.
        if (algorithm == "none" || algorithm.rfind("HS", 0) == 0) {
            return ConfigError{"option algorithms may not contain " + algorithm + " (never accepted)"};
        }
        if (!is_supported_algorithm(algorithm)) {
            return ConfigError{"option algorithms has unknown algorithm " + algorithm};
        }
    }
    if (!settings.users.username_map.empty() && settings.users.username_map.front() != '/') {
        return ConfigError{"option username_map must be an absolute path"};
    }
    const bool only_userinfo = settings.verify.size() == 1 && settings.verify.front() == VerifyMethod::Userinfo;
    if (!settings.token.audience.empty() && only_userinfo) {
        // Userinfo answers carry no aud; accepting the option would promise a check that never runs.
        return ConfigError{
            "option audience needs verify=jwt or verify=introspect (userinfo answers carry no audience)"};
    }
    if (settings.users.username_claim.empty() || settings.users.groups_claim.empty()) {
        return ConfigError{"claim names must not be empty"};
    }
    for (const auto& [key, reference] :
         {std::pair<const char*, const std::string&>{"username_claim", settings.users.username_claim},
          {"groups_claim", settings.users.groups_claim}}) {
        if (auto problem = check_claim_reference(reference)) {
            return ConfigError{std::string("option ") + key + " " + *problem};
        }
    }
    for (const auto& rule : settings.users.require_claims) {
        if (auto problem = check_claim_reference(rule.first)) {
            return ConfigError{"option require_claim " + *problem};
        }
    }
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

std::optional<std::string> conf_path_from_args(const std::vector<std::string_view>& args)
{
    std::optional<std::string> path;
    for (const auto arg : args) {
        const auto [key, value] = split_item(arg, Source::Argument);
        if (key == "conf" && value && !value->empty()) {
            path = std::string(*value);
        }
    }
    return path;
}

// The shared keys of the file (if any), then the arguments over them.
std::variant<Settings, ConfigError> read_shared(const std::vector<std::string_view>& args, const ConfigFileText* file,
                                                const FileLayout* layout)
{
    Settings settings;
    if (file != nullptr) {
        settings.conf = file->path;
        if (auto error = apply_lines(settings, layout->shared, *file, false)) {
            return *error;
        }
        if (!settings.endpoints.client_secret.empty() && file->world_readable) {
            return ConfigError{"conf file " + file->path + " holds client_secret but is world-readable (chmod o-r)",
                               true};
        }
    }
    const std::size_t positional = apply_positional(settings, args);
    for (std::size_t i = positional; i < args.size(); ++i) {
        if (auto error = apply(settings, args[i], Source::Argument, "")) {
            return *error;
        }
    }
    return settings;
}

std::variant<Settings, ConfigError> parse_settings(const std::vector<std::string_view>& args,
                                                   const ConfigFileText* file)
{
    FileLayout layout;
    if (file != nullptr) {
        auto read = layout_of(*file);
        if (auto* error = std::get_if<ConfigError>(&read)) {
            return *error;
        }
        layout = std::move(std::get<FileLayout>(read));
    }
    auto settings = read_shared(args, file, &layout);
    if (auto* error = std::get_if<ConfigError>(&settings)) {
        return *error;
    }
    const bool sections = !layout.sections.empty();
    if (sections && !std::get<Settings>(settings).uses(VerifyMethod::Jwt)) {
        return ConfigError{"[issuer] sections in " + file->path + " need verify=jwt", true};
    }
    if (auto error = validate(std::get<Settings>(settings), sections)) {
        return *error;
    }
    return settings;
}

std::variant<std::vector<IssuerSettings>, ConfigError> parse_issuer_sections(const std::vector<std::string_view>& args,
                                                                             const ConfigFileText& file)
{
    auto read = layout_of(file);
    if (auto* error = std::get_if<ConfigError>(&read)) {
        return *error;
    }
    const auto& layout = std::get<FileLayout>(read);
    std::vector<IssuerSettings> issuers;
    for (const auto& section : layout.sections) {
        // Each section is the shared keys and the arguments, then its own keys.
        auto settings = read_shared(args, &file, &layout);
        if (auto* error = std::get_if<ConfigError>(&settings)) {
            return *error;
        }
        auto& own = std::get<Settings>(settings);
        if (auto error = apply_lines(own, section.lines, file, true)) {
            return *error;
        }
        const std::string where = "conf file " + file.path + " [issuer " + section.name + "]: ";
        if (own.token.issuer.empty()) {
            return ConfigError{where + "needs issuer", true};
        }
        for (const auto& other : issuers) {
            if (other.settings.token.issuer == own.token.issuer) {
                return ConfigError{
                    where + "issuer " + own.token.issuer + " is also that of [issuer " + other.name + "]", true};
            }
        }
        if (auto error = validate(own)) {
            return ConfigError{where + error->message, true};
        }
        issuers.push_back({section.name, std::move(own)});
    }
    return issuers;
}

std::map<std::string, std::string> option_origins(const std::vector<std::string_view>& args, const ConfigFileText* file,
                                                  const std::string& section)
{
    std::map<std::string, std::string> origins;
    FileLayout layout;
    if (file != nullptr) {
        if (auto read = layout_of(*file); std::holds_alternative<FileLayout>(read)) {
            layout = std::move(std::get<FileLayout>(read));
        }
        origins["conf"] = "argument";
    }
    const auto from_file = [&](const std::vector<FileLine>& lines, const std::string& where) {
        for (const auto& line : lines) {
            origins[std::string(split_item(line.text, Source::File).key)] =
                where + " line " + std::to_string(line.number);
        }
    };
    if (file != nullptr) {
        from_file(layout.shared, "conf file " + file->path);
    }
    Settings scratch;
    const std::size_t positional = apply_positional(scratch, args);
    if (positional > 0) {
        origins["userinfo_url"] = "argument 1 (seed form)";
    }
    if (positional > 1) {
        origins["username_claim"] = "argument 2 (seed form)";
    }
    for (std::size_t i = positional; i < args.size(); ++i) {
        origins[std::string(split_item(args[i], Source::Argument).key)] = "argument";
    }
    for (const auto& own : layout.sections) {
        if (own.name == section) {
            from_file(own.lines, "conf file " + file->path + " [issuer " + own.name + "]");
        }
    }
    return origins;
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
