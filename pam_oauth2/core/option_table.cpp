#include "option_table.hpp"
#include "settings.hpp"

#include "broker_protocol.h"
#include "text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>

namespace pam_oauth2 {
namespace {

using Problem = std::optional<std::string>;
using Value = std::optional<std::string_view>;

// A settings field reached through a path of member pointers, e.g. <&Settings::http, &HttpSettings::allow_http>.
template <auto... Path, typename S> auto& field(S& settings)
{
    return (settings.*....*Path);
}

Problem need_value(Value value)
{
    if (!value || value->empty()) {
        return std::string("needs a value");
    }
    return std::nullopt;
}

std::string join(const std::vector<std::string>& items)
{
    std::string joined;
    for (const auto& item : items) {
        joined.append(joined.empty() ? "" : ",").append(item);
    }
    return joined;
}

// --- value kinds: how a value is read and shown; each option below picks one -----------------------

template <auto... Path> Problem set_text(Settings& settings, Value value)
{
    if (auto problem = need_value(value)) {
        return problem;
    }
    field<Path...>(settings) = std::string(*value);
    return std::nullopt;
}

template <auto... Path> std::string show_text(const Settings& settings)
{
    return field<Path...>(settings);
}

template <bool MayBeEmpty, auto... Path> Problem set_list(Settings& settings, Value value)
{
    if (!value) {
        return std::string("needs a value (a comma-separated list)");
    }
    auto items = split_list(*value);
    if (items.empty() && !MayBeEmpty) {
        return std::string("needs at least one item");
    }
    // No list item ever holds a blank: one that does is a mistake (a comment, a missing comma), and
    // guessing could drop a restriction.
    for (const auto& item : items) {
        if (item.find_first_of(" \t") != std::string::npos) {
            return std::string("has an item with a blank in it; items are separated by commas");
        }
    }
    field<Path...>(settings) = std::move(items);
    return std::nullopt;
}

template <auto... Path> std::string show_list(const Settings& settings)
{
    return join(field<Path...>(settings));
}

template <auto... Path> Problem set_flag(Settings& settings, Value value)
{
    auto& target = field<Path...>(settings);
    if (!value || *value == "yes" || *value == "true" || *value == "on" || *value == "1") {
        target = true;
    } else if (*value == "no" || *value == "false" || *value == "off" || *value == "0") {
        target = false;
    } else {
        return std::string("is a flag: give it bare, or as yes/no, true/false, on/off, 1/0");
    }
    return std::nullopt;
}

template <auto... Path> std::string show_flag(const Settings& settings)
{
    return field<Path...>(settings) ? "on" : "off";
}

template <long long Minimum, long long Maximum, auto... Path> Problem set_integer(Settings& settings, Value value)
{
    if (auto problem = need_value(value)) {
        return problem;
    }
    long long parsed = 0;
    const auto* end = value->data() + value->size();
    const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
    if (ec != std::errc() || ptr != end || parsed < Minimum || parsed > Maximum) {
        return "must be a whole number from " + std::to_string(Minimum) + " to " + std::to_string(Maximum);
    }
    auto& target = field<Path...>(settings);
    target = static_cast<std::remove_reference_t<decltype(target)>>(parsed);
    return std::nullopt;
}

template <auto... Path> std::string show_integer(const Settings& settings)
{
    return std::to_string(field<Path...>(settings));
}

// Seconds with decimals in the option, milliseconds in the settings.
template <int MaximumSeconds, auto... Path> Problem set_seconds(Settings& settings, Value value)
{
    if (auto problem = need_value(value)) {
        return problem;
    }
    double parsed = 0;
    const auto* end = value->data() + value->size();
    const auto [ptr, ec] = std::from_chars(value->data(), end, parsed, std::chars_format::fixed);
    if (ec != std::errc() || ptr != end || !std::isfinite(parsed) || parsed < 0.001 || parsed > MaximumSeconds) {
        return "must be a number of seconds above 0 and at most " + std::to_string(MaximumSeconds);
    }
    field<Path...>(settings) = std::lround(parsed * 1000.0);
    return std::nullopt;
}

template <auto... Path> std::string show_seconds(const Settings& settings)
{
    const long milliseconds = field<Path...>(settings);
    std::string shown = std::to_string(milliseconds / 1000);
    if (const long fraction = milliseconds % 1000; fraction != 0) {
        std::string digits = std::to_string(1000 + fraction).substr(1);
        digits.erase(digits.find_last_not_of('0') + 1);
        shown += "." + digits;
    }
    return shown;
}

// --- options whose values have a shape of their own ------------------------------------------------

Problem set_verify(Settings& settings, Value value)
{
    if (!value) {
        return std::string("needs a value: a comma-separated list of jwt, introspect, userinfo");
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
            return std::string("has an unknown method (known: jwt, introspect, userinfo)");
        }
        if (std::find(methods.begin(), methods.end(), method) != methods.end()) {
            return "names method " + std::string(method_name(method)) + " twice";
        }
        methods.push_back(method);
    }
    if (methods.empty()) {
        return std::string("needs at least one method");
    }
    settings.verify = std::move(methods);
    return std::nullopt;
}

std::string show_verify(const Settings& settings)
{
    std::vector<std::string> names;
    for (const auto method : settings.verify) {
        names.emplace_back(method_name(method));
    }
    return join(names);
}

Problem set_client_secret(Settings& settings, Value value)
{
    if (auto problem = need_value(value)) {
        return problem;
    }
    settings.endpoints.client_secret = SettingsSecret(*value);
    return std::nullopt;
}

std::string show_client_secret(const Settings& settings)
{
    return settings.endpoints.client_secret.empty() ? "" : "<redacted>";
}

Problem set_require_claim(Settings& settings, Value value)
{
    if (!value) {
        return std::string("needs a value of the form claim=value");
    }
    // claim=value splits at the first '=', so claim names may hold ':' (cognito:groups, URLs); the
    // older claim:value form is read when there is no '='.
    auto split = value->find('=');
    if (split == std::string_view::npos) {
        split = value->find(':');
    }
    if (split == std::string_view::npos || split == 0 || split + 1 == value->size()) {
        return std::string("must be of the form claim=value");
    }
    settings.users.require_claims.emplace_back(std::string(value->substr(0, split)),
                                               std::string(value->substr(split + 1)));
    return std::nullopt;
}

std::string show_require_claim(const Settings& settings)
{
    std::vector<std::string> rules;
    for (const auto& [name, wanted] : settings.users.require_claims) {
        rules.push_back(std::string(name).append("=").append(wanted));
    }
    return join(rules);
}

Problem set_log(Settings& settings, Value value)
{
    if (value && *value == "syslog") {
        settings.log.target = LogTarget::Syslog;
    } else if (value && *value == "stderr") {
        settings.log.target = LogTarget::Stderr;
    } else {
        return std::string("must be syslog or stderr");
    }
    return std::nullopt;
}

std::string show_log(const Settings& settings)
{
    return settings.log.target == LogTarget::Stderr ? "stderr" : "syslog";
}

// broker, bare (the default socket) or broker=/absolute/path.
Problem set_broker(Settings& settings, Value value)
{
    const std::string_view path = value ? *value : std::string_view(BROKER_DEFAULT_SOCKET);
    if (path.empty() || path.front() != '/') {
        return std::string("must be an absolute socket path, or given bare for " BROKER_DEFAULT_SOCKET);
    }
    settings.broker.socket = std::string(path);
    return std::nullopt;
}

std::string show_broker(const Settings& settings)
{
    return settings.broker.socket; // empty: off, verify in-process
}

Problem set_broker_fallback(Settings& settings, Value value)
{
    if (!value || (*value != "local" && *value != "deny")) {
        return std::string("must be local or deny");
    }
    settings.broker.fallback = std::string(*value);
    return std::nullopt;
}

std::string show_broker_fallback(const Settings& settings)
{
    return settings.broker.fallback;
}

// audit=off|syslog|file; where a file goes is audit_file's.
Problem set_audit(Settings& settings, Value value)
{
    if (value && *value == "off") {
        settings.audit.target = AuditTarget::Off;
    } else if (value && *value == "syslog") {
        settings.audit.target = AuditTarget::Syslog;
    } else if (value && *value == "file") {
        settings.audit.target = AuditTarget::File;
    } else {
        return std::string("must be off, syslog or file");
    }
    return std::nullopt;
}

std::string show_audit(const Settings& settings)
{
    switch (settings.audit.target) {
    case AuditTarget::Syslog: return "syslog";
    case AuditTarget::File: return "file";
    case AuditTarget::Off: break;
    }
    return "off";
}

// Absolute: the file is opened by whatever process hosts the module, in whatever directory it runs.
Problem set_audit_file(Settings& settings, Value value)
{
    if (!value || value->empty() || value->front() != '/') {
        return std::string("must be an absolute path");
    }
    settings.audit.file = std::string(*value);
    return std::nullopt;
}

std::string show_audit_file(const Settings& settings)
{
    return settings.audit.file;
}

// --- options that may stay unset, so that pam_oauth2d's default applies ---------------------------

template <auto... Path> Problem set_optional_flag(Settings& settings, Value value)
{
    bool parsed = false;
    if (!value || *value == "yes" || *value == "true" || *value == "on" || *value == "1") {
        parsed = true;
    } else if (*value != "no" && *value != "false" && *value != "off" && *value != "0") {
        return std::string("is a flag: give it bare, or as yes/no, true/false, on/off, 1/0");
    }
    field<Path...>(settings) = parsed;
    return std::nullopt;
}

template <auto... Path> std::string show_optional_flag(const Settings& settings)
{
    const auto& value = field<Path...>(settings);
    return !value ? "" : *value ? "on" : "off";
}

template <long long Maximum, auto... Path> Problem set_optional_integer(Settings& settings, Value value)
{
    if (auto problem = need_value(value)) {
        return problem;
    }
    long parsed = 0;
    const auto* end = value->data() + value->size();
    const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
    if (ec != std::errc() || ptr != end || parsed < 0 || parsed > Maximum) {
        return "must be a whole number from 0 to " + std::to_string(Maximum);
    }
    field<Path...>(settings) = parsed;
    return std::nullopt;
}

template <auto... Path> std::string show_optional_integer(const Settings& settings)
{
    const auto& value = field<Path...>(settings);
    return value ? std::to_string(*value) : "";
}

// 0 (off) or min_recheck_seconds to max_recheck_seconds: a shorter interval would have the daemon
// ask the provider about every tracked session several times a second.
Problem set_recheck_seconds(Settings& settings, Value value)
{
    if (auto problem = need_value(value)) {
        return problem;
    }
    long parsed = 0;
    const auto* end = value->data() + value->size();
    const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
    if (ec != std::errc() || ptr != end || parsed < 0 || (parsed > 0 && parsed < min_recheck_seconds) ||
        parsed > max_recheck_seconds) {
        return "must be 0 (off) or a whole number from " + std::to_string(min_recheck_seconds) + " to " +
               std::to_string(max_recheck_seconds);
    }
    settings.sessions.recheck_seconds = parsed;
    return std::nullopt;
}

// --- the table ----------------------------------------------------------------------------------------

// How an option's value is read and shown: one of the kinds above, bound to its settings field.
struct Kind {
    std::optional<std::string> (*set)(Settings&, Value);
    std::string (*show)(const Settings&);
};

template <auto... Path> constexpr Kind text{&set_text<Path...>, &show_text<Path...>};
template <bool MayBeEmpty, auto... Path> constexpr Kind list{&set_list<MayBeEmpty, Path...>, &show_list<Path...>};
template <auto... Path> constexpr Kind flag{&set_flag<Path...>, &show_flag<Path...>};
template <long long Minimum, long long Maximum, auto... Path>
constexpr Kind integer{&set_integer<Minimum, Maximum, Path...>, &show_integer<Path...>};
template <int MaximumSeconds, auto... Path>
constexpr Kind seconds{&set_seconds<MaximumSeconds, Path...>, &show_seconds<Path...>};
template <auto... Path> constexpr Kind optional_flag{&set_optional_flag<Path...>, &show_optional_flag<Path...>};
template <long long Maximum, auto... Path>
constexpr Kind optional_integer{&set_optional_integer<Maximum, Path...>, &show_optional_integer<Path...>};

constexpr OptionSpec option(std::string_view name, std::string_view group, Kind kind, std::string_view summary,
                            OptionSource source = OptionSource::Anywhere, bool secret = false)
{
    return {name, group, summary, source, secret, false, kind.set, kind.show};
}

// An option that an [issuer NAME] section may set for the tokens of that issuer.
constexpr OptionSpec issuer_option(std::string_view name, std::string_view group, Kind kind, std::string_view summary)
{
    return {name, group, summary, OptionSource::Anywhere, false, true, kind.set, kind.show};
}

constexpr std::string_view verification = "verification";
constexpr std::string_view rules = "authorization rules";
constexpr std::string_view transport = "transport";
constexpr std::string_view per_login = "token, conversation, cache, logging";
constexpr std::string_view session_ending = "ending sessions (pam_oauth2d)";

using S = Settings;
using E = EndpointSettings;
using J = JwtSettings;
using T = TokenRules;
using U = UserRules;
using H = HttpSettings;
using C = CacheSettings;
using V = ConversationSettings;
using L = LogSettings;
using O = SessionSettings;

// URLs are read as text here; the URL policy depends on allow_http, which may come later on the line,
// so it is checked with the other cross-key rules once everything is read.
constexpr OptionSpec options[] = {
    option("verify", verification, Kind{&set_verify, &show_verify},
           "ordered methods among jwt, introspect, userinfo; the first that applies decides"),
    option("userinfo_url", verification, text<&S::endpoints, &E::userinfo_url>, "OIDC userinfo endpoint"),
    option("introspection_url", verification, text<&S::endpoints, &E::introspection_url>,
           "RFC 7662 introspection endpoint"),
    option("client_id", verification, text<&S::endpoints, &E::client_id>, "introspection client"),
    option("client_secret", verification, Kind{&set_client_secret, &show_client_secret},
           "introspection client secret (conf= file only)", OptionSource::FileOnly, true),
    issuer_option("issuer", verification, text<&S::token, &T::issuer>,
                  "expected iss; for jwt the JWKS is found through discovery"),
    issuer_option("jwks_url", verification, text<&S::jwt, &J::jwks_url>, "explicit JWKS location"),
    issuer_option("discovery_url", verification, text<&S::jwt, &J::discovery_url>,
                  "discovery document location when it is not under the issuer (Entra v1)"),
    issuer_option("tenants", verification, list<false, &S::token, &T::tenants>,
                  "tenant ids accepted by an issuer template holding {tenantid} (Entra multi-tenant)"),
    issuer_option("algorithms", verification, list<false, &S::jwt, &J::algorithms>, "allowed JWS algorithms"),
    issuer_option("leeway", verification, integer<0, 3600, &S::token, &T::leeway_seconds>,
                  "seconds of clock skew for exp/nbf/iat"),

    issuer_option("username_claim", rules, text<&S::users, &U::username_claim>, "claim that must equal the PAM user"),
    issuer_option("case_insensitive", rules, flag<&S::users, &U::case_insensitive>,
                  "compare user names ignoring ASCII case"),
    option("deny_users", rules, list<true, &S::users, &U::deny_users>, "PAM users never accepted through a token"),
    issuer_option("audience", rules, text<&S::token, &T::audience>, "required aud value (jwt, introspect)"),
    issuer_option("allow_any_audience", rules, flag<&S::token, &T::allow_any_audience>,
                  "waive the audience that jwt and introspect otherwise require"),
    issuer_option("allow_id_tokens", rules, flag<&S::token, &T::allow_id_tokens>,
                  "accept tokens that say they are ID tokens (refused by default)"),
    issuer_option("scope", rules, list<false, &S::users, &U::scope>, "scopes that must all be present"),
    issuer_option("groups_claim", rules, text<&S::users, &U::groups_claim>, "claim holding the user's groups"),
    issuer_option("groups", rules, list<false, &S::users, &U::groups>, "the user must be in at least one of these"),
    issuer_option("require_claim", rules, Kind{&set_require_claim, &show_require_claim},
                  "claim=value that must hold; repeatable"),
    issuer_option("username_map", rules, text<&S::users, &U::username_map>, "file mapping claim values to PAM users"),

    option("ca_file", transport, text<&S::http, &H::ca_file>, "PEM bundle of trust anchors"),
    option("ca_path", transport, text<&S::http, &H::ca_path>, "hashed directory of trust anchors"),
    option("timeout", transport, seconds<60, &S::http, &H::timeout_ms>, "seconds for a whole exchange"),
    option("connect_timeout", transport, seconds<60, &S::http, &H::connect_timeout_ms>, "seconds to connect"),
    option("allow_http", transport, flag<&S::http, &H::allow_http>, "permit http:// to loopback only, for testing"),

    option("max_token_bytes", per_login, integer<1, 1048576, &S::token, &T::max_bytes>, "longer tokens are refused"),
    option("prompt", per_login, text<&S::conversation, &V::prompt>, "conversation prompt"),
    option("use_first_pass", per_login, flag<&S::conversation, &V::use_first_pass>,
           "only take a token an earlier module set"),
    option("try_first_pass", per_login, flag<&S::conversation, &V::try_first_pass>,
           "take an earlier module's token, else ask"),
    option("cache_dir", per_login, text<&S::cache, &C::dir>, "on-disk JWKS and verdict cache"),
    option("cache_ttl", per_login, integer<0, 86400, &S::cache, &C::ttl_seconds>,
           "seconds a positive verdict is reused"),
    option("debug", per_login, flag<&S::log, &L::debug>, "verbose, still secret-free, logging"),
    option("log", per_login, Kind{&set_log, &show_log}, "syslog or stderr"),
    option("broker", per_login, Kind{&set_broker, &show_broker},
           "hand logins to pam_oauth2d on this socket (bare: the default socket)", OptionSource::ArgumentOnly),
    option("broker_fallback", per_login, Kind{&set_broker_fallback, &show_broker_fallback},
           "when pam_oauth2d cannot answer: local (verify in-process) or deny", OptionSource::ArgumentOnly),
    option("conf", per_login, text<&S::conf>, "read key = value lines from this file first",
           OptionSource::ArgumentOnly),

    option("audit", per_login, Kind{&set_audit, &show_audit},
           "one JSON event per decision: off, syslog (LOG_AUTHPRIV) or file (audit_file)"),
    option("audit_file", per_login, Kind{&set_audit_file, &show_audit_file},
           "absolute path the audit events are appended to, with audit=file"),
    option("session_end_at_expiry", session_ending, optional_flag<&S::sessions, &O::end_at_expiry>,
           "pam_oauth2d ends the session at the token's exp plus session_grace; unset: pam_oauth2d's default"),
    option("session_grace", session_ending, optional_integer<86400, &S::sessions, &O::grace_seconds>,
           "seconds after exp before the session is ended; unset: pam_oauth2d's default"),
    option("session_max_age", session_ending, optional_integer<31536000, &S::sessions, &O::max_age_seconds>,
           "seconds after the login the session is ended, whatever the token; 0: never; unset: pam_oauth2d's"),
    option("session_end_on_logout", session_ending, optional_flag<&S::sessions, &O::end_on_logout>,
           "pam_oauth2d ends the session on the provider's back-channel logout; unset: pam_oauth2d's default"),
    option("session_recheck", session_ending,
           Kind{&set_recheck_seconds, &show_optional_integer<&S::sessions, &O::recheck_seconds>},
           "seconds between pam_oauth2d's re-checks of an opaque token at the provider; 0: never; unset: "
           "pam_oauth2d's"),
};

} // namespace

OptionTable option_table() noexcept
{
    return {std::begin(options), std::end(options)};
}

const OptionSpec* find_option(std::string_view name) noexcept
{
    const auto found =
        std::find_if(std::begin(options), std::end(options), [&](const OptionSpec& spec) { return spec.name == name; });
    return found == std::end(options) ? nullptr : found;
}

} // namespace pam_oauth2
