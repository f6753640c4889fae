#include "options.hpp"

#include "jws.hpp"
#include "url_policy.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>

namespace pam_oauth2 {
namespace {

enum class Source { Argument, File };

using Setter = std::function<std::optional<std::string>(Options&, std::optional<std::string_view>, Source)>;

std::string_view trim(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

std::vector<std::string> split_list(std::string_view text)
{
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const auto item =
            trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (!item.empty()) {
            items.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return items;
}

std::optional<std::string> need_value(std::optional<std::string_view> value)
{
    if (!value || value->empty()) {
        return std::string("needs a value");
    }
    return std::nullopt;
}

Setter text_option(std::string Options::*member)
{
    return [member](Options& options, std::optional<std::string_view> value, Source) {
        if (auto problem = need_value(value)) {
            return problem;
        }
        options.*member = std::string(*value);
        return std::optional<std::string>{};
    };
}

Setter url_option(std::string Options::*member)
{
    // URL policy depends on allow_http, which may come later on the line; it is checked in validate().
    return text_option(member);
}

Setter list_option(std::vector<std::string> Options::*member, bool may_be_empty)
{
    return [member, may_be_empty](Options& options, std::optional<std::string_view> value, Source) {
        if (!value) {
            return std::optional<std::string>("needs a value (a comma-separated list)");
        }
        auto items = split_list(*value);
        if (items.empty() && !may_be_empty) {
            return std::optional<std::string>("needs at least one item");
        }
        options.*member = std::move(items);
        return std::optional<std::string>{};
    };
}

Setter flag_option(bool Options::*member)
{
    return [member](Options& options, std::optional<std::string_view> value, Source) {
        if (!value || *value == "yes" || *value == "true" || *value == "on" || *value == "1") {
            options.*member = true;
        } else if (*value == "no" || *value == "false" || *value == "off" || *value == "0") {
            options.*member = false;
        } else {
            return std::optional<std::string>("is a flag: give it bare, or as yes/no, true/false, on/off, 1/0");
        }
        return std::optional<std::string>{};
    };
}

Setter integer_option(long Options::*member, long minimum, long maximum)
{
    return [member, minimum, maximum](Options& options, std::optional<std::string_view> value, Source) {
        if (auto problem = need_value(value)) {
            return problem;
        }
        long parsed = 0;
        const auto* end = value->data() + value->size();
        const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
        if (ec != std::errc() || ptr != end || parsed < minimum || parsed > maximum) {
            return std::optional<std::string>("must be a whole number from " + std::to_string(minimum) + " to " +
                                              std::to_string(maximum));
        }
        options.*member = parsed;
        return std::optional<std::string>{};
    };
}

Setter seconds_option(long Options::*member_ms, double maximum)
{
    return [member_ms, maximum](Options& options, std::optional<std::string_view> value, Source) {
        if (auto problem = need_value(value)) {
            return problem;
        }
        double parsed = 0;
        const auto* end = value->data() + value->size();
        const auto [ptr, ec] = std::from_chars(value->data(), end, parsed, std::chars_format::fixed);
        if (ec != std::errc() || ptr != end || !std::isfinite(parsed) || parsed < 0.001 || parsed > maximum) {
            return std::optional<std::string>("must be a number of seconds above 0 and at most " +
                                              std::to_string(static_cast<int>(maximum)));
        }
        options.*member_ms = std::lround(parsed * 1000.0);
        return std::optional<std::string>{};
    };
}

std::optional<std::string> set_verify(Options& options, std::optional<std::string_view> value, Source)
{
    if (!value) {
        return "needs a value: a comma-separated list of jwt, introspect, userinfo";
    }
    std::vector<VerifyMethod> methods;
    for (const auto& name : split_list(*value)) {
        VerifyMethod method{};
        if (name == "jwt") {
            method = VerifyMethod::Jwt;
        } else if (name == "introspect") {
            method = VerifyMethod::Introspect;
        } else if (name == "userinfo") {
            method = VerifyMethod::Userinfo;
        } else {
            return "has unknown method '" + name + "' (known: jwt, introspect, userinfo)";
        }
        if (std::find(methods.begin(), methods.end(), method) != methods.end()) {
            return "names method '" + name + "' twice";
        }
        methods.push_back(method);
    }
    if (methods.empty()) {
        return "needs at least one method";
    }
    options.verify = std::move(methods);
    return std::nullopt;
}

std::optional<std::string> set_client_secret(Options& options, std::optional<std::string_view> value, Source source)
{
    // Module arguments sit in world-readable /etc/pam.d files and show up in debug dumps.
    if (source == Source::Argument) {
        return "is not accepted as a module argument; put it in a conf= file that is not world-readable";
    }
    if (auto problem = need_value(value)) {
        return problem;
    }
    options.client_secret = SecureString(*value);
    return std::nullopt;
}

std::optional<std::string> set_require_claim(Options& options, std::optional<std::string_view> value, Source)
{
    if (!value) {
        return "needs a value of the form name:value";
    }
    const auto colon = value->find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return "must be of the form name:value";
    }
    options.require_claims.emplace_back(std::string(value->substr(0, colon)), std::string(value->substr(colon + 1)));
    return std::nullopt;
}

std::optional<std::string> set_log(Options& options, std::optional<std::string_view> value, Source)
{
    if (value && *value == "syslog") {
        options.log = LogTarget::Syslog;
    } else if (value && *value == "stderr") {
        options.log = LogTarget::Stderr;
    } else {
        return "must be syslog or stderr";
    }
    return std::nullopt;
}

std::optional<std::string> set_max_token_bytes(Options& options, std::optional<std::string_view> value, Source)
{
    if (auto problem = need_value(value)) {
        return problem;
    }
    std::size_t parsed = 0;
    const auto* end = value->data() + value->size();
    const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
    if (ec != std::errc() || ptr != end || parsed < 1 || parsed > std::size_t{1024} * 1024) {
        return "must be a whole number from 1 to 1048576";
    }
    options.max_token_bytes = parsed;
    return std::nullopt;
}

std::optional<std::string> set_nothing(Options&, std::optional<std::string_view>, Source)
{
    return std::nullopt; // conf= is consumed before parsing; see conf_path_from_args.
}

// Built per parse rather than held in a static: the module is dlclose()d after every login and must
// leave no static destructors behind (the cost is a few microseconds).
std::map<std::string_view, Setter> make_option_table()
{
    return {
        {"verify", set_verify},
        {"userinfo_url", url_option(&Options::userinfo_url)},
        {"introspection_url", url_option(&Options::introspection_url)},
        {"client_id", text_option(&Options::client_id)},
        {"client_secret", set_client_secret},
        {"issuer", text_option(&Options::issuer)},
        {"jwks_url", url_option(&Options::jwks_url)},
        {"audience", text_option(&Options::audience)},
        {"scope", list_option(&Options::scope, false)},
        {"username_claim", text_option(&Options::username_claim)},
        {"case_insensitive", flag_option(&Options::case_insensitive)},
        {"username_map", text_option(&Options::username_map)},
        {"deny_users", list_option(&Options::deny_users, true)},
        {"groups_claim", text_option(&Options::groups_claim)},
        {"groups", list_option(&Options::groups, false)},
        {"require_claim", set_require_claim},
        {"algorithms", list_option(&Options::algorithms, false)},
        {"leeway", integer_option(&Options::leeway_seconds, 0, 3600)},
        {"ca_file", text_option(&Options::ca_file)},
        {"ca_path", text_option(&Options::ca_path)},
        {"timeout", seconds_option(&Options::timeout_ms, 60)},
        {"connect_timeout", seconds_option(&Options::connect_timeout_ms, 60)},
        {"allow_http", flag_option(&Options::allow_http)},
        {"cache_dir", text_option(&Options::cache_dir)},
        {"cache_ttl", integer_option(&Options::cache_ttl_seconds, 0, 86400)},
        {"use_first_pass", flag_option(&Options::use_first_pass)},
        {"try_first_pass", flag_option(&Options::try_first_pass)},
        {"prompt", text_option(&Options::prompt)},
        {"max_token_bytes", set_max_token_bytes},
        {"debug", flag_option(&Options::debug)},
        {"log", set_log},
        {"conf", set_nothing},
    };
}

std::optional<ConfigError> apply(Options& options, const std::map<std::string_view, Setter>& table,
                                 std::string_view item, Source source, const std::string& where)
{
    // Linux-PAM strips the brackets of [key=value with spaces]; accept them anyway for hand-made argv.
    if (item.size() >= 2 && item.front() == '[' && item.back() == ']') {
        item = item.substr(1, item.size() - 2);
    }
    const auto equals = item.find('=');
    const auto key = source == Source::File ? trim(item.substr(0, equals)) : item.substr(0, equals);
    std::optional<std::string_view> value;
    if (equals != std::string_view::npos) {
        value = source == Source::File ? trim(item.substr(equals + 1)) : item.substr(equals + 1);
    }
    const auto setter = table.find(key);
    if (setter == table.end()) {
        // Fail closed: a typo such as `group=` must not silently drop a restriction.
        return ConfigError{where + "unknown option '" + std::string(key) + "'", source == Source::File};
    }
    if (auto problem = setter->second(options, value, source)) {
        return ConfigError{where + "option " + std::string(key) + " " + *problem, source == Source::File};
    }
    return std::nullopt;
}

std::optional<ConfigError> parse_file(Options& options, const std::map<std::string_view, Setter>& table,
                                      const ConfigFileText& file)
{
    std::string_view rest = file.text;
    int line_number = 0;
    while (!rest.empty()) {
        ++line_number;
        const auto newline = rest.find('\n');
        auto line = trim(rest.substr(0, newline));
        rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const std::string where = "conf file " + file.path + " line " + std::to_string(line_number) + ": ";
        if (trim(line.substr(0, line.find('='))) == "conf") {
            return ConfigError{where + "conf= cannot be nested", true};
        }
        if (auto error = apply(options, table, line, Source::File, where)) {
            return error;
        }
    }
    if (!options.client_secret.empty() && file.world_readable) {
        return ConfigError{"conf file " + file.path + " holds client_secret but is world-readable (chmod o-r)", true};
    }
    return std::nullopt;
}

std::optional<ConfigError> validate(const Options& options)
{
    const auto url_error = [&](const char* key, const std::string& url) -> std::optional<ConfigError> {
        if (url.empty()) {
            return std::nullopt;
        }
        if (auto problem = check_endpoint_url(url, options.allow_http)) {
            return ConfigError{std::string("option ") + key + " " + *problem};
        }
        return std::nullopt;
    };
    for (const auto& [key, url] : {std::pair<const char*, const std::string&>{"userinfo_url", options.userinfo_url},
                                   {"introspection_url", options.introspection_url},
                                   {"jwks_url", options.jwks_url},
                                   {"issuer", options.issuer}}) {
        if (auto error = url_error(key, url)) {
            return error;
        }
    }
    for (const auto method : options.verify) {
        switch (method) {
        case VerifyMethod::Userinfo:
            if (options.userinfo_url.empty()) {
                return ConfigError{"verify=userinfo needs userinfo_url"};
            }
            break;
        case VerifyMethod::Introspect:
            if (options.introspection_url.empty() || options.client_id.empty() || options.client_secret.empty()) {
                return ConfigError{
                    "verify=introspect needs introspection_url, client_id and client_secret (from a conf= file)"};
            }
            break;
        case VerifyMethod::Jwt:
            if (options.issuer.empty()) {
                return ConfigError{
                    "verify=jwt needs issuer (its JWKS is found through discovery unless jwks_url is set)"};
            }
            break;
        }
    }
    for (const auto& algorithm : options.algorithms) {
        // none and HMAC are refused outright: an HMAC "key" would be the issuer's public key.
        if (algorithm == "none" || algorithm.rfind("HS", 0) == 0) {
            return ConfigError{"option algorithms may not contain " + algorithm + " (never accepted)"};
        }
        if (!is_supported_algorithm(algorithm)) {
            return ConfigError{"option algorithms has unknown algorithm " + algorithm};
        }
    }
    if (!options.username_map.empty() && options.username_map.front() != '/') {
        return ConfigError{"option username_map must be an absolute path"};
    }
    const bool only_userinfo = options.verify.size() == 1 && options.verify.front() == VerifyMethod::Userinfo;
    if (!options.audience.empty() && only_userinfo) {
        // Userinfo answers carry no aud; accepting the option would promise a check that never runs.
        return ConfigError{
            "option audience needs verify=jwt or verify=introspect (userinfo answers carry no audience)"};
    }
    if (options.username_claim.empty() || options.groups_claim.empty()) {
        return ConfigError{"claim names must not be empty"};
    }
    return std::nullopt;
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
        if (arg.substr(0, 5) == "conf=") {
            path = std::string(arg.substr(5));
        }
    }
    return path;
}

std::variant<Options, ConfigError> parse_options(const std::vector<std::string_view>& args, const ConfigFileText* file)
{
    const auto table = make_option_table();
    Options options;
    if (file != nullptr) {
        options.conf = file->path;
        if (auto error = parse_file(options, table, *file)) {
            return *error;
        }
    }
    for (const auto arg : args) {
        if (auto error = apply(options, table, arg, Source::Argument, "")) {
            return *error;
        }
    }
    if (auto error = validate(options)) {
        return *error;
    }
    return options;
}

std::string describe_options(const Options& options)
{
    std::string out;
    const auto field = [&out](const char* key, std::string_view value) {
        out.append(out.empty() ? "" : " ").append(key).append("=").append(value);
    };
    const auto list = [](const auto& items, const auto& show) {
        std::string joined;
        for (const auto& item : items) {
            joined.append(joined.empty() ? "" : ",").append(show(item));
        }
        return joined;
    };
    const auto same = [](const std::string& item) { return item; };
    field("verify", list(options.verify, [](VerifyMethod method) { return std::string(method_name(method)); }));
    field("userinfo_url", options.userinfo_url);
    field("introspection_url", options.introspection_url);
    field("client_id", options.client_id);
    field("client_secret", options.client_secret.empty() ? "" : "<redacted>");
    field("issuer", options.issuer);
    field("jwks_url", options.jwks_url);
    field("audience", options.audience);
    field("scope", list(options.scope, same));
    field("username_claim", options.username_claim);
    field("case_insensitive", options.case_insensitive ? "1" : "0");
    field("deny_users", list(options.deny_users, same));
    field("groups_claim", options.groups_claim);
    field("groups", list(options.groups, same));
    field("require_claim",
          list(options.require_claims, [](const auto& rule) { return rule.first + ":" + rule.second; }));
    field("algorithms", list(options.algorithms, same));
    field("leeway", std::to_string(options.leeway_seconds));
    field("ca_file", options.ca_file);
    field("ca_path", options.ca_path);
    field("timeout_ms", std::to_string(options.timeout_ms));
    field("connect_timeout_ms", std::to_string(options.connect_timeout_ms));
    field("allow_http", options.allow_http ? "1" : "0");
    field("cache_dir", options.cache_dir);
    field("max_token_bytes", std::to_string(options.max_token_bytes));
    field("conf", options.conf);
    return out;
}

} // namespace pam_oauth2
