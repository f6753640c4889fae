#include "dry_run.hpp"

#include "check_report.hpp"
#include "clock.hpp"
#include "configuration.hpp"
#include "curl_http_client.hpp"
#include "http_trace.hpp"
#include "introspection_verifier.hpp"
#include "json.hpp"
#include "key_source.hpp"
#include "text.hpp"
#include "trace.hpp"
#include "userinfo_verifier.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <grp.h>
#include <pwd.h>

namespace pam_oauth2 {
namespace {

// The transport of the dry run: libcurl with the configured trust, every exchange traced so the
// TLS and clock checks can read them afterwards.
class TracedClient final : public HttpClient {
public:
    TracedClient(const HttpSettings& settings, const Logger& logger)
        : client_(make_curl_http_client(settings)), logger_(logger)
    {
    }
    HttpResult send(const HttpRequest& request) override { return send_traced(*client_, request, logger_); }

private:
    std::unique_ptr<HttpClient> client_;
    const Logger& logger_;
};

class Checks {
public:
    void add(std::string check, bool holds, std::string detail)
    {
        list_.push_back({{"check", std::move(check)}, {"holds", holds}, {"detail", std::move(detail)}});
        all_hold_ = all_hold_ && holds;
    }
    [[nodiscard]] bool all_hold() const { return all_hold_; }
    [[nodiscard]] const nlohmann::json& list() const { return list_; }

private:
    nlohmann::json list_ = nlohmann::json::array();
    bool all_hold_ = true;
};

std::string owner_and_mode(const std::string& path)
{
    struct stat info {};
    if (stat(path.c_str(), &info) != 0) {
        return "cannot stat";
    }
    const passwd* user = getpwuid(info.st_uid);
    const group* grp = getgrgid(info.st_gid);
    return std::string("owner ") + (user != nullptr ? user->pw_name : std::to_string(info.st_uid)) + ":" +
           (grp != nullptr ? grp->gr_name : std::to_string(info.st_gid)) + ", mode " + octal_mode(info.st_mode) +
           ((info.st_mode & S_IROTH) != 0 ? ", world-readable" : ", not world-readable");
}

void check_files(const Configuration& configuration, Checks& checks)
{
    const auto add_file = [&](const std::string& what, const std::string& path) {
        checks.add(what + " " + path, true, owner_and_mode(path) + "; passes the safe-open rules");
    };
    if (!configuration.settings.conf.empty()) {
        add_file("conf file", configuration.settings.conf);
    }
    if (!configuration.settings.users.username_map.empty()) {
        add_file("username_map file", configuration.settings.users.username_map);
    }
    for (const auto& issuer : configuration.issuers) {
        if (!issuer.settings.users.username_map.empty() &&
            issuer.settings.users.username_map != configuration.settings.users.username_map) {
            add_file("username_map file of [issuer " + issuer.name + "]", issuer.settings.users.username_map);
        }
    }
}

void check_keys(const std::string& label, const Settings& settings, HttpClient& http, const Logger& logger,
                Checks& checks)
{
    RemoteKeySource source(settings.token.issuer, settings.jwt, settings.http, http, nullptr, system_now, logger);
    const KeySet set = source.keys(false);
    if (!set.error.empty()) {
        checks.add(label, false, set.error);
        return;
    }
    std::string kids;
    for (const auto& key : set.keys) {
        kids += (kids.empty() ? "" : ", ") + (key.kid.empty() ? "(no kid)" : key.kid) + " " + key.kty;
    }
    checks.add(label, true, std::to_string(set.keys.size()) + " usable signing keys: " + kids);
}

// An endpoint method asked about a token it cannot know: any answer but "unavailable" shows the
// endpoint, TLS and (for introspection) the client credentials work.
void check_endpoint(TokenVerifier& verifier, const std::string& url, Checks& checks)
{
    const SecureString probe(std::string("pam_oauth2_check-dry-run-probe"));
    const PresentedToken token(probe);
    const VerifyResult result = verifier.verify(token);
    const std::string label = std::string(verifier.name()) + " endpoint " + url;
    if (result.status == VerifyStatus::Unavailable) {
        checks.add(label, false, result.detail);
        return;
    }
    checks.add(label, true, "answers; a probe token was refused as it should be (" + result.detail + ")");
}

// TLS trust and clock skew, read from the exchanges the checks above made.
void check_exchanges(const nlohmann::json& steps, const Settings& settings, Checks& checks)
{
    std::string tls_problem;
    int answered = 0;
    long long worst_skew = 0;
    bool dated = false;
    const long long now = system_now();
    for (const auto& step : steps) {
        if (step.find("step") == step.end() || step.at("step") != "http") {
            continue;
        }
        if (const auto error = string_member(step, "error")) {
            if (error->find("SSL") != std::string::npos || error->find("certificate") != std::string::npos) {
                tls_problem = string_member(step, "url").value_or("") + ": " + *error;
            }
            continue;
        }
        ++answered;
        if (const auto date = integer_member(step, "date")) {
            const long long skew = *date - now;
            if (!dated || std::llabs(skew) > std::llabs(worst_skew)) {
                worst_skew = skew;
            }
            dated = true;
        }
    }
    const std::string trust = !settings.http.ca_file.empty()   ? "ca_file=" + settings.http.ca_file
                              : !settings.http.ca_path.empty() ? "ca_path=" + settings.http.ca_path
                                                               : "the system trust store";
    if (!tls_problem.empty()) {
        checks.add("TLS trust", false, "not trusted with " + trust + ": " + tls_problem);
    } else if (answered > 0) {
        checks.add("TLS trust", true, std::to_string(answered) + " answers verified with " + trust);
    }
    if (!dated) {
        checks.add("clock", true, "not compared: no answer carried a Date header");
        return;
    }
    // Date has a resolution of one second.
    const long long allowed = settings.token.leeway_seconds + 1;
    const std::string skew_text = worst_skew == 0  ? "agrees with this machine's clock"
                                  : worst_skew > 0 ? "is " + std::to_string(worst_skew) + " s ahead of this machine"
                                                   : "is " + std::to_string(-worst_skew) + " s behind this machine";
    checks.add("clock", std::llabs(worst_skew) <= allowed,
               "the provider's Date " + skew_text + " (leeway " + std::to_string(settings.token.leeway_seconds) +
                   " s)");
}

} // namespace

DryRunReport dry_run(const std::vector<std::string>& args)
{
    Checks checks;
    const std::vector<std::string_view> views(args.begin(), args.end());
    const auto loaded = load_configuration(views);
    if (const auto* error = std::get_if<ConfigError>(&loaded)) {
        checks.add("configuration", false, error->message);
        return {{{"checks", checks.list()}, {"holds", false}}, 3};
    }
    const auto& configuration = std::get<Configuration>(loaded);
    const Settings& settings = configuration.settings;
    const nlohmann::json options = configuration_report(configuration, views);
    std::string given;
    for (const auto& row : options["options"]) {
        if (row["origin"] != "default") {
            given += " " + row["name"].get<std::string>() + "=" + log_value(row["value"].get<std::string>());
        }
    }
    checks.add("configuration", true, "options and files load; given:" + given);
    check_files(configuration, checks);

    Trace trace;
    Logger logger([](int, const std::string&) {});
    logger.set_observer(&trace);
    TracedClient http(settings.http, logger);
    for (const auto method : settings.verify) {
        switch (method) {
        case VerifyMethod::Jwt:
            if (configuration.issuers.empty()) {
                check_keys("jwt signing keys of " + settings.token.issuer, settings, http, logger, checks);
            }
            for (const auto& issuer : configuration.issuers) {
                check_keys("jwt signing keys of [issuer " + issuer.name + "] " + issuer.settings.token.issuer,
                           issuer.settings, http, logger, checks);
            }
            break;
        case VerifyMethod::Userinfo: {
            UserinfoVerifier verifier(settings.endpoints, http);
            check_endpoint(verifier, settings.endpoints.userinfo_url, checks);
            break;
        }
        case VerifyMethod::Introspect: {
            IntrospectionVerifier verifier(settings.endpoints, http);
            check_endpoint(verifier, settings.endpoints.introspection_url, checks);
            break;
        }
        }
    }
    check_exchanges(trace.steps(), settings, checks);
    const bool holds = checks.all_hold();
    return {{{"checks", checks.list()}, {"holds", holds}, {"configuration", options}, {"exchanges", trace.steps()}},
            holds ? 0 : 2};
}

} // namespace pam_oauth2
