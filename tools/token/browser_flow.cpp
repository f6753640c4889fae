#include "browser_flow.hpp"

#include "base64url.hpp"
#include "json.hpp"
#include "loopback_listener.hpp"
#include "pkce.hpp"
#include "text.hpp"

#include <chrono>

namespace pam_oauth2::token {
namespace {

constexpr const char* callback_path = "/callback";

GrantResult failed(GrantStatus status, std::string problem)
{
    GrantResult result;
    result.status = status;
    result.problem = std::move(problem);
    return result;
}

std::string percent_encode(const std::string& text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') || c == '-' ||
            c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[byte >> 4U];
            out += hex[byte & 15U];
        }
    }
    return out;
}

// The provider's error answer (RFC 6749 section 4.1.2.1) as a grant result.
GrantResult provider_error(const std::map<std::string, std::string>& answer)
{
    const std::string& error = answer.at("error");
    const auto description = answer.find("error_description");
    const std::string said =
        log_safe(error) + (description == answer.end() ? "" : ": " + log_safe(description->second, 200));
    if (error == "access_denied") {
        return failed(GrantStatus::Denied, said);
    }
    if (error == "server_error" || error == "temporarily_unavailable") {
        return failed(GrantStatus::Unavailable, said);
    }
    // invalid_request, unauthorized_client, unsupported_response_type, invalid_scope and the OIDC
    // errors (login_required, consent_required...): the client or its registration must change.
    return failed(GrantStatus::BadClient, said);
}

// The sign-in's random values: PKCE, state and nonce.
struct Secrets {
    Pkce pkce;
    std::string state;
    std::string nonce;
};

std::optional<Secrets> make_secrets()
{
    auto pkce = make_pkce();
    auto state = random_base64url(16);
    auto nonce = random_base64url(16);
    if (!pkce || !state || !nonce) {
        return std::nullopt;
    }
    return Secrets{std::move(*pkce), std::move(*state), std::move(*nonce)};
}

GrantResult exchange_code(HttpClient& http, const ProviderEndpoints& endpoints, const ClientRequest& client,
                          const SecureString& code, const std::string& redirect_uri, const Secrets& secrets)
{
    std::deque<SecureString> keep;
    keep.emplace_back("authorization_code");
    keep.emplace_back(redirect_uri);
    std::vector<std::pair<std::string, const SecureString*>> fields{{"grant_type", &keep[0]},
                                                                    {"code", &code},
                                                                    {"redirect_uri", &keep[1]},
                                                                    {"code_verifier", &secrets.pkce.verifier}};
    add_client_fields(fields, client, keep, false);
    GrantResult result = request_grant(http, endpoints.token, client, std::move(fields));
    if (result.status == GrantStatus::Issued && !result.id_token.empty()) {
        if (auto problem = id_token_problem(result.id_token, secrets.nonce, endpoints.issuer)) {
            return failed(GrantStatus::Mismatch, *problem);
        }
    }
    if (result.status != GrantStatus::Issued) {
        result.problem = "the token endpoint refused the authorization code: " + result.problem;
    }
    return result;
}

// The page the browser lands on for `result`.
std::pair<int, std::string> page_for(const GrantResult& result)
{
    if (result.status == GrantStatus::Issued) {
        return {200, landing_page("Signed in", "Signed in, you can close this tab.")};
    }
    return {400, landing_page("Sign-in failed", "The sign-in did not complete: " + result.problem)};
}

} // namespace

std::string authorization_url(const AuthorizationRequest& request)
{
    std::string url = request.endpoint + (request.endpoint.find('?') == std::string::npos ? "?" : "&");
    bool first = true;
    const auto add = [&](const char* name, const std::string& value) {
        if (!value.empty()) {
            url += (first ? "" : "&") + std::string(name) + "=" + percent_encode(value);
            first = false;
        }
    };
    add("response_type", "code");
    add("client_id", request.client_id);
    add("redirect_uri", request.redirect_uri);
    add("scope", request.scope);
    add("state", request.state);
    add("nonce", request.nonce);
    add("code_challenge", request.code_challenge);
    add("code_challenge_method", "S256");
    add("prompt", request.prompt);
    add("audience", request.audience);
    add("resource", request.resource);
    add("login_hint", request.login_hint);
    return url;
}

std::optional<std::map<std::string, std::string>> parse_query(const std::string& query)
{
    std::map<std::string, std::string> parameters;
    std::size_t start = 0;
    while (start <= query.size() && !query.empty()) {
        const std::size_t end = std::min(query.find('&', start), query.size());
        const std::string_view part(query.data() + start, end - start);
        if (!part.empty()) {
            const auto equals = part.find('=');
            auto name = form_decode(part.substr(0, equals));
            auto value = form_decode(equals == std::string_view::npos ? "" : part.substr(equals + 1));
            if (!name || !value || !parameters.emplace(std::move(*name), std::move(*value)).second) {
                return std::nullopt;
            }
        }
        start = end + 1;
    }
    return parameters;
}

std::variant<SecureString, GrantResult> read_redirect(const std::string& query, const RedirectExpectation& expected)
{
    const auto answer = parse_query(query);
    if (!answer) {
        return failed(GrantStatus::Mismatch, "the answer on the redirect is malformed (a parameter given twice or a "
                                             "bad escape)");
    }
    const auto state = answer->find("state");
    if (state == answer->end() || state->second != expected.state) {
        return failed(GrantStatus::Mismatch, "the answer on the redirect carries a wrong or no state: it is not the "
                                             "answer to this sign-in");
    }
    // RFC 9207 section 2.4: with iss advertised, an answer without it or with another issuer is refused;
    // an iss that is present is checked even when not advertised.
    const auto iss = answer->find("iss");
    if ((iss == answer->end() && expected.iss_required) || (iss != answer->end() && iss->second != expected.issuer)) {
        return failed(GrantStatus::Mismatch,
                      "the answer on the redirect names " +
                          (iss == answer->end() ? std::string("no issuer") : "issuer " + log_safe(iss->second, 200)) +
                          ", not " + expected.issuer + " (RFC 9207): refused");
    }
    if (answer->count("error") != 0) {
        return provider_error(*answer);
    }
    const auto code = answer->find("code");
    if (code == answer->end() || code->second.empty()) {
        return failed(GrantStatus::Unavailable, "the answer on the redirect carries neither a code nor an error");
    }
    return SecureString(code->second);
}

std::optional<std::string> id_token_problem(const SecureString& id_token, const std::string& nonce,
                                            const std::string& issuer)
{
    const std::string_view text = id_token.view();
    const auto first = text.find('.');
    const auto second = first == std::string_view::npos ? first : text.find('.', first + 1);
    const auto payload =
        second == std::string_view::npos ? std::nullopt : base64url_decode(text.substr(first + 1, second - first - 1));
    const auto claims = payload ? parse_json_object(*payload) : std::nullopt;
    if (!claims) {
        return "the id_token from the token endpoint is not a JWT";
    }
    if (string_member(*claims, "nonce") != nonce) {
        return "the id_token carries a wrong or no nonce: it is not from this sign-in";
    }
    if (string_member(*claims, "iss") != issuer) {
        return "the id_token names another issuer than " + issuer;
    }
    return std::nullopt;
}

GrantResult browser_sign_in(HttpClient& http, const ProviderEndpoints& endpoints, const ClientRequest& client,
                            const BrowserFlowSettings& settings, const BrowserFlowHooks& hooks)
{
    if (endpoints.authorization.empty()) {
        return failed(GrantStatus::BadClient, "the provider " + endpoints.issuer +
                                                  " offers no authorization endpoint (its discovery document names "
                                                  "no authorization_endpoint)");
    }
    const auto secrets = make_secrets();
    if (!secrets) {
        return failed(GrantStatus::Unavailable, "no random bytes for the sign-in (OpenSSL RAND_bytes failed)");
    }
    auto opened = LoopbackListener::open(settings.ports);
    if (auto* problem = std::get_if<std::string>(&opened)) {
        return failed(GrantStatus::BadClient, *problem);
    }
    auto& listener = *std::get<std::unique_ptr<LoopbackListener>>(opened);
    const std::string redirect_uri = "http://" + settings.host + ":" + std::to_string(listener.port()) + callback_path;
    const AuthorizationRequest request{
        endpoints.authorization, client.client_id, redirect_uri,    client.scope,    secrets->state,     secrets->nonce,
        secrets->pkce.challenge, settings.prompt,  client.audience, client.resource, settings.login_hint};
    hooks.show(authorization_url(request), listener.port());
    auto waited =
        listener.wait(callback_path, std::chrono::steady_clock::now() + std::chrono::seconds(settings.wait_seconds));
    if (auto* failure = std::get_if<ListenFailure>(&waited)) {
        return failed(failure->timed_out ? GrantStatus::Expired : GrantStatus::Unavailable,
                      failure->timed_out
                          ? "no answer from the browser within " + std::to_string(settings.wait_seconds) + " s"
                          : failure->problem);
    }
    auto& callback = std::get<Callback>(waited);
    auto code = read_redirect(callback.query,
                              RedirectExpectation{secrets->state, endpoints.issuer, endpoints.iss_parameter_supported});
    GrantResult result =
        std::holds_alternative<GrantResult>(code)
            ? std::move(std::get<GrantResult>(code))
            : exchange_code(http, endpoints, client, std::get<SecureString>(code), redirect_uri, *secrets);
    const auto [status, page] = page_for(result);
    LoopbackListener::answer(callback, status, page);
    return result;
}

} // namespace pam_oauth2::token
