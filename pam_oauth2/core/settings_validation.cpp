#include "settings_validation.hpp"

#include "claim_reference.hpp"
#include "jws.hpp"
#include "url_policy.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace pam_oauth2 {
namespace {

using Problem = std::optional<ConfigError>;

// URLs are read as text; the policy depends on allow_http, so it is checked once everything is read.
Problem check_urls(const Settings& settings)
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
    return std::nullopt;
}

Problem check_methods(const Settings& settings, bool jwt_issuers_in_sections)
{
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
    return std::nullopt;
}

Problem check_audience(const Settings& settings, bool jwt_issuers_in_sections)
{
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
    return std::nullopt;
}

Problem check_issuer_template(const Settings& settings)
{
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
    return std::nullopt;
}

Problem check_algorithms(const Settings& settings)
{
    for (const auto& algorithm : settings.jwt.algorithms) {
        // none and HMAC are refused outright: an HMAC "key" would be the issuer's public key.
        if (algorithm == "none" || algorithm.rfind("HS", 0) == 0) {
            return ConfigError{"option algorithms may not contain " + algorithm + " (never accepted)"};
        }
        if (!is_supported_algorithm(algorithm)) {
            return ConfigError{"option algorithms has unknown algorithm " + algorithm};
        }
    }
    return std::nullopt;
}

Problem check_users(const Settings& settings)
{
    if (!settings.users.username_map.empty() && settings.users.username_map.front() != '/') {
        return ConfigError{"option username_map must be an absolute path"};
    }
    const bool only_userinfo = settings.verify.size() == 1 && settings.verify.front() == VerifyMethod::Userinfo;
    if (!settings.token.audience.empty() && only_userinfo) {
        // Userinfo answers carry no aud; accepting the option would promise a check that never runs.
        return ConfigError{
            "option audience needs verify=jwt or verify=introspect (userinfo answers carry no audience)"};
    }
    if (!settings.token.issuer.empty() && only_userinfo) {
        // Nor is a userinfo answer's iss checked: a token of another issuer whose provider answers
        // userinfo would be granted while the configuration seemed to pin the issuer.
        return ConfigError{"option issuer needs verify=jwt or verify=introspect (userinfo answers are not "
                           "checked against an issuer; userinfo_url alone names the provider)"};
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

// A file target without a file, or a file no target writes, is a mistake: either would promise an
// audit trail that is never written.
Problem check_audit(const Settings& settings)
{
    if (settings.audit.target == AuditTarget::File && settings.audit.file.empty()) {
        return ConfigError{"audit=file needs audit_file (the absolute path the events are appended to)"};
    }
    if (settings.audit.target != AuditTarget::File && !settings.audit.file.empty()) {
        return ConfigError{"option audit_file needs audit=file"};
    }
    return std::nullopt;
}

// A JWT's signature and claims never change, so asking again proves nothing the expiry policy does
// not: a line that can grant only JWTs and asks for re-checks would promise revocation it cannot see.
Problem check_recheck(const Settings& settings)
{
    const bool only_jwt = std::all_of(settings.verify.begin(), settings.verify.end(),
                                      [](VerifyMethod method) { return method == VerifyMethod::Jwt; });
    if (only_jwt && settings.sessions.recheck_seconds.value_or(0) > 0) {
        return ConfigError{"option session_recheck needs verify=userinfo or verify=introspect (a JWT cannot be "
                           "asked about again: use session_end_at_expiry, or introspect for revocation)"};
    }
    return std::nullopt;
}

} // namespace

std::optional<ConfigError> check_secret_endpoints(const Settings& settings,
                                                  const std::map<std::string, std::string>& origins)
{
    if (settings.endpoints.client_secret.empty()) {
        return std::nullopt; // client_secret is accepted only from a conf= file
    }
    for (const char* key : {"userinfo_url", "introspection_url", "jwks_url", "discovery_url", "issuer"}) {
        const auto origin = origins.find(key);
        // "argument", or "argument 1 (seed form)" for the positional userinfo URL.
        if (origin != origins.end() && origin->second.rfind("argument", 0) == 0) {
            return ConfigError{std::string("option ") + key +
                                   " may not be a module argument when the conf= file holds client_secret; set "
                                   "it in that file (an argument could send the client's credentials elsewhere)",
                               false};
        }
    }
    return std::nullopt;
}

std::optional<ConfigError> validate_settings(const Settings& settings, bool jwt_issuers_in_sections)
{
    // The order is the order the rules were written in: the first broken one is reported.
    if (auto problem = check_urls(settings)) {
        return problem;
    }
    if (auto problem = check_methods(settings, jwt_issuers_in_sections)) {
        return problem;
    }
    if (auto problem = check_audience(settings, jwt_issuers_in_sections)) {
        return problem;
    }
    if (auto problem = check_issuer_template(settings)) {
        return problem;
    }
    if (auto problem = check_algorithms(settings)) {
        return problem;
    }
    if (auto problem = check_users(settings)) {
        return problem;
    }
    if (auto problem = check_recheck(settings)) {
        return problem;
    }
    return check_audit(settings);
}

} // namespace pam_oauth2
