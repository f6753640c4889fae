// pam_oauth2_token: signs a person in once at the identity provider (device authorization grant,
// RFC 8628), keeps the refresh token safe, and hands a fresh access token to a client: on standard
// output, or to one command run with it. See usage_text and pam_oauth2_token(1).
#include "account_commands.hpp"
#include "browser_flow.hpp"
#include "browser_launch.hpp"
#include "credential_store.hpp"
#include "device_flow.hpp"
#include "exit_status.hpp"
#include "network.hpp"
#include "run_with_token.hpp"
#include "sign_in_identity.hpp"
#include "sign_in_lock.hpp"
#include "terminal_qr.hpp"
#include "text.hpp"
#include "token_options.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

namespace {

using namespace pam_oauth2::token;
using pam_oauth2::printable;
using pam_oauth2::SecureString;

constexpr const char* usage_text =
    "usage: pam_oauth2_token [-p PROFILE] [--issuer URL --client-id ID] [OPTION...]\n"
    "       pam_oauth2_token [-p PROFILE] [OPTION...] [--passfile | --env NAME] -- COMMAND [ARG...]\n"
    "       pam_oauth2_token [-p PROFILE] [--account NAME] --status [--json]\n"
    "       pam_oauth2_token [-p PROFILE] [OPTION...] --logout [--account NAME | --all]\n";

constexpr const char* help_text =
    "Prints a fresh access token on standard output (nothing else goes there), or runs COMMAND with\n"
    "it in PGPASSWORD (or a temporary 0600 passfile in PGPASSFILE). The first call signs you in with\n"
    "the browser (authorization code with PKCE on a 127.0.0.1 redirect) or, on a host without one,\n"
    "the device flow: open the URL shown (or scan the QR code) and enter the code. Later calls are\n"
    "silent: the refresh token is kept in the kernel keyring, or a 0600 file under ~/.cache/pam_oauth2.\n"
    "\n"
    "  -p, --profile NAME    settings from [profile NAME] of ~/.config/pam_oauth2/token.conf\n"
    "  --config FILE         another profile file\n"
    "  --issuer URL          the provider (found by OpenID Connect discovery)\n"
    "  --client-id ID        a public (native) client\n"
    "  --scope SCOPES        default \"openid offline_access\" (offline_access asks for a refresh token)\n"
    "  --audience AUD        audience= for providers that take it (Auth0)\n"
    "  --resource URI        resource= (RFC 8707; Entra v1, others)\n"
    "  --ca-file FILE        trust this CA for the provider instead of the system's\n"
    "  --store auto|keyring|file   where the sign-in is kept (auto: keyring when available)\n"
    "  --qr auto|always|never      the QR code of the sign-in URL (auto: on a UTF-8 terminal)\n"
    "  --min-valid SECONDS   hand out a kept access token only with this much life left (60)\n"
    "  --timeout SECONDS     for each request to the provider (10)\n"
    "  --no-prompt           never start a sign-in: fail (exit 1) when none is kept\n"
    "  --account NAME        one of several sign-ins of the profile, sent as login_hint\n"
    "  --status              who is signed in where, until when (never a token; --json)\n"
    "  --logout              forget the kept sign-in (and revoke its refresh token); --all: every account\n"
    "  --passfile            give COMMAND a temporary passfile instead of PGPASSWORD\n"
    "  --env NAME            give COMMAND the token in NAME instead of PGPASSWORD\n"
    "  --flow auto|browser|device  how to sign in (auto: the browser with $DISPLAY, $WAYLAND_DISPLAY\n"
    "                        or $BROWSER set, else the device flow)\n"
    "  --allow-device-flow true|false  false: never the device flow\n"
    "  --no-browser          print the sign-in address instead of opening a browser\n"
    "  --browser COMMAND     the command that opens the address (else $BROWSER, else xdg-open)\n"
    "  --redirect-ports LIST ports to try for the 127.0.0.1 redirect (default: any free port)\n"
    "  --redirect-host 127.0.0.1|localhost  the host named in the redirect URI\n"
    "  --sign-in-timeout SECONDS  how long the browser flow waits for the sign-in (300)\n"
    "  --prompt auto|consent|login|select_account|none-sent  prompt= of the browser flow\n"
    "\n"
    "Exit status: 0 ok (with COMMAND: its status), 1 not signed in (denied, expired, refused answer,\n"
    "--no-prompt), 2 identity provider unavailable, 3 configuration error, 4 usage.\n";

void say(const std::string& line)
{
    std::fprintf(stderr, "pam_oauth2_token: %s\n", printable(line).c_str());
}

int exit_for(GrantStatus status)
{
    switch (status) {
    case GrantStatus::Issued: return exit_ok;
    case GrantStatus::Denied:
    case GrantStatus::Expired:
    case GrantStatus::Pending:
    case GrantStatus::SlowDown:
    case GrantStatus::InvalidGrant:
    case GrantStatus::Mismatch: return exit_not_signed_in;
    case GrantStatus::BadClient: return exit_configuration;
    case GrantStatus::Unavailable: return exit_unavailable;
    }
    return exit_unavailable;
}

long long now_seconds()
{
    return static_cast<long long>(std::time(nullptr));
}

// The terminal side of the device flow: the URL and code, the QR code, and a waiting line.
DeviceFlowHooks terminal_hooks(const TokenOptions& options)
{
    const bool tty = isatty(STDERR_FILENO) != 0;
    DeviceFlowHooks hooks;
    hooks.show = [options, tty](const DeviceSignIn& sign_in) {
        std::fprintf(stderr, "To sign in, open %s and enter the code %s\n", printable(sign_in.verification_uri).c_str(),
                     printable(sign_in.user_code).c_str());
        if (!sign_in.verification_uri_complete.empty()) {
            std::fprintf(stderr, "or open %s\n", printable(sign_in.verification_uri_complete).c_str());
            int columns = 0;
            const bool can_show = terminal_can_show_qr(columns);
            if (options.qr == "always" || (options.qr == "auto" && can_show)) {
                if (auto qr = qr_code_text(sign_in.verification_uri_complete, options.qr == "always" ? 0 : columns)) {
                    std::fprintf(stderr, "or scan:\n%s", qr->c_str());
                }
            }
        }
        std::fputs("Type the code only if you started this sign-in yourself: a code someone sent you signs them "
                   "in as you.\n",
                   stderr);
        std::fprintf(stderr, "The code expires in %lld s.%s", sign_in.expires_in, tty ? "" : "\n");
        std::fflush(stderr);
    };
    hooks.wait = [tty](long long waited, long long left) {
        if (tty) {
            std::fprintf(stderr, "\rWaiting for the sign-in to be approved... %lld s (the code expires in %lld s) ",
                         waited, left);
            std::fflush(stderr);
        }
    };
    hooks.sleep = [](long long seconds) { std::this_thread::sleep_for(std::chrono::seconds(seconds)); };
    hooks.now = now_seconds;
    return hooks;
}

// The browser side of the browser flow: the URL printed, and opened unless --no-browser.
BrowserFlowHooks browser_hooks(const TokenOptions& options)
{
    BrowserFlowHooks hooks;
    hooks.show = [options](const std::string& url, int port) {
        std::fprintf(stderr, "To sign in, open this address in a browser (waiting %lld s):\n%s\n",
                     options.sign_in_timeout, printable(url).c_str());
        if (options.no_browser) {
            std::fprintf(stderr,
                         "(in a browser on another host: forward the port first, ssh -L %d:127.0.0.1:%d to this "
                         "host)\n",
                         port, port);
        } else if (auto problem = open_in_browser(options.browser, url)) {
            say(*problem + "; open the address yourself");
        }
        std::fflush(stderr);
    };
    return hooks;
}

bool set(const char* variable)
{
    const char* value = std::getenv(variable);
    return value != nullptr && *value != '\0';
}

// A new sign-in by the flow the options choose: auto takes the browser where a person can see one
// (a graphical session, $BROWSER, a browser command, or --no-browser to open the address elsewhere)
// or where the profile forbids the device flow. `flow` is set to the one used ("browser", "device").
GrantResult sign_in_by_flow(const TokenOptions& options, pam_oauth2::HttpClient& http,
                            const ProviderEndpoints& endpoints, const ClientRequest& client, std::string& flow)
{
    const bool browser =
        options.flow == "browser" ||
        (options.flow == "auto" && (set("DISPLAY") || set("WAYLAND_DISPLAY") || set("BROWSER") ||
                                    !options.browser.empty() || options.no_browser || !options.allow_device_flow));
    if (!browser && !options.allow_device_flow) {
        GrantResult refused;
        refused.status = GrantStatus::BadClient;
        refused.problem = "this profile forbids the device flow (allow_device_flow = false): use --flow browser";
        return refused;
    }
    flow = browser ? "browser" : "device";
    if (!browser) {
        return device_sign_in(http, endpoints, client, terminal_hooks(options));
    }
    const bool offline = (" " + options.scope + " ").find(" offline_access ") != std::string::npos;
    BrowserFlowSettings settings;
    settings.ports = options.redirect_ports;
    settings.host = options.redirect_host;
    settings.prompt = options.prompt == "auto"        ? (offline ? "consent" : "")
                      : options.prompt == "none-sent" ? ""
                                                      : options.prompt;
    settings.wait_seconds = options.sign_in_timeout;
    settings.login_hint = client.login_hint; // --account
    return browser_sign_in(http, endpoints, client, settings, browser_hooks(options));
}

// The kept sign-in, or the exit status after saying why it cannot be read.
std::variant<std::optional<StoredSignIn>, int> load_kept(CredentialStore& store)
{
    auto loaded = store.load();
    if (auto* problem = std::get_if<std::string>(&loaded)) {
        say(*problem);
        return exit_configuration;
    }
    return std::move(std::get<std::optional<StoredSignIn>>(loaded));
}

bool still_valid(const std::optional<StoredSignIn>& kept, const TokenOptions& options)
{
    return kept && !kept->access_token.empty() && kept->access_expires_at - now_seconds() >= options.min_valid;
}

// A new sign-in by the flow the options choose; the exit status when there is none. `flow` is the
// flow that signed in, kept for --status.
std::optional<int> sign_in(pam_oauth2::HttpClient& http, const ProviderEndpoints& endpoints,
                           const ClientRequest& client, const TokenOptions& options, GrantResult& result,
                           std::string& flow)
{
    if (options.no_prompt) {
        say("not signed in and --no-prompt forbids a sign-in");
        return exit_not_signed_in;
    }
    result = sign_in_by_flow(options, http, endpoints, client, flow);
    if (isatty(STDERR_FILENO) != 0) {
        std::fputc('\n', stderr);
    }
    if (result.status != GrantStatus::Issued) {
        say(std::string(result.status == GrantStatus::Denied     ? "the sign-in was denied: "
                        : result.status == GrantStatus::Expired  ? "the sign-in was not completed in time: "
                        : result.status == GrantStatus::Mismatch ? "the sign-in answer was refused: "
                                                                 : "cannot sign in: ") +
            result.problem);
        return exit_for(result.status);
    }
    say("signed in");
    return std::nullopt;
}

// What is kept after a grant: the tokens, and who signed in where for --status (a refresh keeps
// the identity and the time of the sign-in it continues).
StoredSignIn to_keep(GrantResult& result, const TokenOptions& options, const std::optional<StoredSignIn>& before,
                     const std::string& new_flow)
{
    StoredSignIn fresh;
    fresh.refresh_token = std::move(result.refresh_token);
    fresh.access_token = SecureString(result.access_token.view());
    fresh.access_expires_at = now_seconds() + result.expires_in.value_or(0);
    fresh.issuer = options.issuer;
    fresh.client_id = options.client_id;
    fresh.profile = options.profile.empty() && before ? before->profile : options.profile;
    fresh.account = options.account;
    // The id_token first; a JWT access token often names the user when the id_token (no "profile"
    // scope) does not.
    auto identity = identity_of(result.id_token.view());
    const auto from_access_token = identity_of(result.access_token.view());
    identity.subject = identity.subject.empty() ? from_access_token.subject : identity.subject;
    identity.username = identity.username.empty() ? from_access_token.username : identity.username;
    const bool new_sign_in = !new_flow.empty();
    const bool carried = !new_sign_in && before.has_value();
    fresh.subject = !identity.subject.empty() ? identity.subject : carried ? before->subject : "";
    fresh.username = !identity.username.empty() ? identity.username : carried ? before->username : "";
    fresh.flow = carried ? before->flow : new_flow;
    fresh.signed_in_at = carried ? before->signed_in_at : new_sign_in ? now_seconds() : 0;
    return fresh;
}

// A refresh, else a sign-in, under the lock of this sign-in; the access token or the exit status.
std::variant<SecureString, int> renew(const TokenOptions& options, CredentialStore& store, pam_oauth2::HttpClient& http,
                                      std::optional<StoredSignIn> kept)
{
    auto discovered = discover(http, options.issuer, false);
    if (auto* problem = std::get_if<std::string>(&discovered)) {
        say(*problem);
        return exit_unavailable;
    }
    const auto& endpoints = std::get<ProviderEndpoints>(discovered);
    ClientRequest client{options.client_id, nullptr,          options.scope,
                         options.audience,  options.resource, options.account};
    GrantResult result;
    if (kept && !kept->refresh_token.empty()) {
        result = refresh(http, endpoints, client, kept->refresh_token);
        if (result.status == GrantStatus::InvalidGrant) {
            say("the kept sign-in is no longer accepted (" + result.problem + "); signing in again");
            (void)store.forget();
        } else if (result.status != GrantStatus::Issued) {
            say("cannot refresh the sign-in: " + result.problem);
            return exit_for(result.status);
        }
        if (result.status == GrantStatus::Issued && result.refresh_token.empty()) {
            result.refresh_token = SecureString(kept->refresh_token.view()); // not rotated: the old one stays good
        }
    }
    std::string flow; // the flow that signed in, for --status; empty for a refresh
    if (result.status != GrantStatus::Issued) {
        if (auto failed = sign_in(http, endpoints, client, options, result, flow)) {
            return *failed;
        }
    }
    StoredSignIn fresh = to_keep(result, options, kept, flow);
    if (fresh.refresh_token.empty()) {
        say("the provider issued no refresh token (ask for scope offline_access?): the next call signs in again");
    }
    if (auto problem = store.save(fresh)) {
        say(*problem + "; the next call signs in again");
    }
    return std::move(result.access_token);
}

// The access token to hand out, or the exit status after saying why there is none. The kept access
// token is handed out without a lock or the network; anything else waits for the sign-in lock and
// looks again, so a second caller uses what the first one kept.
std::variant<SecureString, int> obtain(const TokenOptions& options, CredentialStore& store,
                                       pam_oauth2::HttpClient& http)
{
    auto loaded = load_kept(store);
    if (const int* failed = std::get_if<int>(&loaded)) {
        return *failed;
    }
    auto kept = std::move(std::get<std::optional<StoredSignIn>>(loaded));
    if (still_valid(kept, options)) {
        return std::move(kept->access_token);
    }
    if ((!kept || kept->refresh_token.empty()) && options.no_prompt) {
        say("not signed in (nothing kept in " + store.where() + ") and --no-prompt forbids a sign-in");
        return exit_not_signed_in;
    }
    // The other call may be waiting for a person: as long as its sign-in may take, plus its token request.
    const long wait_seconds = static_cast<long>(options.sign_in_timeout) + options.timeout_seconds;
    auto lock = lock_sign_in(sign_in_key(options), wait_seconds, [wait_seconds] {
        say("another call is signing in to this profile and account: waiting for it (at most " +
            std::to_string(wait_seconds) + " s, --sign-in-timeout plus --timeout)");
    });
    if (auto* problem = std::get_if<std::string>(&lock)) {
        say(*problem);
        return exit_not_signed_in;
    }
    loaded = load_kept(store);
    if (const int* failed = std::get_if<int>(&loaded)) {
        return *failed;
    }
    kept = std::move(std::get<std::optional<StoredSignIn>>(loaded));
    if (still_valid(kept, options)) {
        return std::move(kept->access_token); // kept by the call we waited for
    }
    return renew(options, store, http, std::move(kept));
}

pam_oauth2::HttpSettings http_settings(const TokenOptions& options)
{
    pam_oauth2::HttpSettings settings;
    settings.ca_file = options.ca_file;
    settings.timeout_ms = options.timeout_seconds * 1000;
    settings.connect_timeout_ms = std::min(options.timeout_seconds, 5L) * 1000;
    return settings;
}

int run(int argc, char** argv)
{
    auto read = read_options(argc, argv);
    if (auto* error = std::get_if<OptionsError>(&read)) {
        say(error->message);
        if (error->exit_code == exit_usage) {
            std::fputs(usage_text, stderr);
        }
        return error->exit_code;
    }
    const TokenOptions& options = std::get<TokenOptions>(read);
    if (options.help) {
        std::printf("%s\n%s", usage_text, help_text);
        return exit_ok;
    }
    if (options.version) {
        std::printf("pam_oauth2_token %s\n", PAM_OAUTH2_VERSION);
        return exit_ok;
    }
    if (options.status) {
        return show_status(options);
    }
    // The network stack is loaded on the first request, if there is one.
    const auto http = make_network(http_settings(options));
    if (options.logout) {
        return sign_out(options, *http);
    }
    auto opened = open_store(options.store, sign_in_key(options));
    if (auto* problem = std::get_if<std::string>(&opened)) {
        say(*problem);
        return exit_configuration;
    }
    auto token = obtain(options, *std::get<std::unique_ptr<CredentialStore>>(opened), *http);
    if (const int* failed = std::get_if<int>(&token)) {
        return *failed;
    }
    const auto& access_token = std::get<SecureString>(token);
    if (!options.command.empty()) {
        return run_with_token(options.command, access_token, ChildHandoff{options.variable, options.passfile});
    }
    std::fwrite(access_token.view().data(), 1, access_token.size(), stdout);
    std::fputc('\n', stdout);
    return std::fflush(stdout) == 0 ? exit_ok : exit_unavailable;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception&) {
        std::fputs("pam_oauth2_token: internal error\n", stderr);
        return exit_unavailable;
    }
}
