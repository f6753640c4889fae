// pam_oauth2_check: runs the module's decision for one user and one token outside PAM and explains
// it, so an administrator can test a pam.d line before PostgreSQL depends on it. See usage() and
// pam_oauth2_check(1). Exit status: 0 granted, 1 refused, 2 identity provider unavailable,
// 3 configuration error, 4 usage.
#include "check_report.hpp"
#include "configuration.hpp"
#include "curl_http_client.hpp"
#include "dry_run.hpp"
#include "login.hpp"
#include "outcome.hpp"
#include "pam_service_file.hpp"
#include "private_cache.hpp"
#include "report_text.hpp"
#include "settings_parser.hpp"
#include "text.hpp"
#include "trace.hpp"

#include <syslog.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace {

int exit_code(pam_oauth2::Outcome outcome)
{
    switch (outcome) {
    case pam_oauth2::Outcome::Granted: return 0;
    case pam_oauth2::Outcome::Denied: return 1;
    case pam_oauth2::Outcome::Unavailable: return 2;
    case pam_oauth2::Outcome::ConfigError: return 3;
    default: return 1;
    }
}

constexpr const char* usage_text =
    "usage: pam_oauth2_check [--explain|--json] [--debug] [--use-cache] [--rhost HOST] USER OPTION...  < token\n"
    "       pam_oauth2_check [--explain|--json] [--debug] [--use-cache] [--rhost HOST] --service NAME\n"
    "                        [--pam-dir DIR] [--stage auth|account] USER < token\n"
    "       pam_oauth2_check --dry-run [--json] OPTION...\n"
    "       pam_oauth2_check --dry-run [--json] --service NAME [--pam-dir DIR] [--stage auth|account]\n"
    "       pam_oauth2_check --list-options | --help | --version\n";

constexpr const char* help_text =
    "Runs pam_oauth2's decision for USER and the token on standard input, outside PAM.\n"
    "\n"
    "  OPTION...          module arguments exactly as written in a pam.d line (conf= included)\n"
    "  --service NAME     take them from the pam_oauth2.so line of /etc/pam.d/NAME instead, as libpam\n"
    "                     reads it (brackets, continuations, @include, include and substack)\n"
    "  --pam-dir DIR      read service files from DIR instead of /etc/pam.d\n"
    "  --stage STAGE      which line: auth (default) or account\n"
    "  --rhost HOST       the remote host the login comes from (PAM_RHOST), as the module sees it:\n"
    "                     it is the decision line's rhost= field\n"
    "  --explain          each step: effective options and where each came from, the token decoded,\n"
    "                     the method, every HTTP exchange, the signing key, each rule, the cache, the\n"
    "                     PAM code the module would return\n"
    "  --json             the same as one JSON document (with --dry-run: the checks)\n"
    "  --dry-run          check the configuration without a token: options, files and permissions,\n"
    "                     discovery and JWKS, endpoints, TLS trust, clock skew against the provider\n"
    "  --debug            the module's debug lines, on standard error\n"
    "  --use-cache        read, write and prune the configuration's cache_dir; without it the login\n"
    "                     uses a private cache directory removed at exit\n"
    "  --list-options     every option, its default and group, as JSON\n"
    "\n"
    "Exit status: 0 granted (--dry-run: every check holds), 1 refused, 2 identity provider unavailable,\n"
    "3 configuration error, 4 usage.\n";

int usage_error(const std::string& problem)
{
    std::fprintf(stderr, "pam_oauth2_check: %s\n%s", problem.c_str(), usage_text);
    return 4;
}

enum class Output { Plain, Explain, Json };

// What the command line asks for.
struct Request {
    bool debug = false;
    bool dry_run = false;
    bool use_cache = false; // the configuration's cache_dir instead of a private one
    Output output = Output::Plain;
    std::string service;
    std::string pam_dir = "/etc/pam.d";
    std::string stage = "auth";
    std::string rhost; // PAM_RHOST of the login, empty when not given (as for a local login)
    std::string user;
    std::vector<std::string> options;
};

// Flags that were given, for the checks of what goes with what.
struct Given {
    bool stage = false;
    bool pam_dir = false;
    bool rhost = false;
};

// What a complete command line combines wrongly, or nullopt.
std::optional<std::string> misuse(const Request& request, const Given& given)
{
    if (request.dry_run && request.output == Output::Explain) {
        return std::string("--dry-run explains every check already; add --json for JSON");
    }
    if (request.dry_run && given.rhost) {
        return std::string("--rhost goes with a login, not --dry-run");
    }
    if (given.rhost && request.rhost.empty()) {
        return std::string("--rhost needs a host name or address");
    }
    if (request.dry_run && request.debug) {
        return std::string("--debug goes with a login, not --dry-run");
    }
    if (request.service.empty() && (given.stage || given.pam_dir)) {
        return std::string("--stage and --pam-dir go with --service");
    }
    if (!request.service.empty() && !request.options.empty()) {
        return std::string(request.dry_run
                               ? "with --dry-run --service no other argument is taken"
                               : "with --service the options come from the service file, not the command line");
    }
    if (request.service.find('/') != std::string::npos || request.service == "." || request.service == "..") {
        return std::string("--service takes a service name, not a path (use --pam-dir for the directory)");
    }
    if (request.stage != "auth" && request.stage != "account") {
        return std::string("--stage is auth or account");
    }
    return std::nullopt;
}

// The request, or the exit status when the command line already answered (help, misuse).
std::variant<Request, int> parse_command_line(int argc, char** argv)
{
    Request request;
    Given given;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; ++i) {
        const std::string flag = argv[i];
        const bool has_value = i + 1 < argc;
        if (flag == "--help") {
            std::printf("%s\n%s", usage_text, help_text);
            return 0;
        }
        if (flag == "--version") {
            std::printf("pam_oauth2_check %s\n", PAM_OAUTH2_VERSION);
            return 0;
        }
        if (flag == "--list-options" && argc == 2) {
            std::printf("%s\n", pam_oauth2::list_options_json().c_str());
            return 0;
        }
        if (flag == "--debug") {
            request.debug = true;
        } else if (flag == "--explain") {
            request.output = request.output == Output::Json ? Output::Json : Output::Explain;
        } else if (flag == "--json") {
            request.output = Output::Json;
        } else if (flag == "--use-cache") {
            request.use_cache = true;
        } else if (flag == "--dry-run") {
            request.dry_run = true;
        } else if (flag == "--service" && has_value) {
            request.service = argv[++i];
        } else if (flag == "--pam-dir" && has_value) {
            request.pam_dir = argv[++i];
            given.pam_dir = true;
        } else if (flag == "--rhost" && has_value) {
            request.rhost = argv[++i];
            given.rhost = true;
        } else if (flag == "--stage" && has_value) {
            request.stage = argv[++i];
            given.stage = true;
        } else {
            const bool takes_value =
                flag == "--service" || flag == "--pam-dir" || flag == "--stage" || flag == "--rhost";
            return usage_error(takes_value && !has_value ? flag + " needs a value" : "unknown or misplaced " + flag);
        }
    }
    if (!request.dry_run) {
        if (i >= argc) {
            return usage_error("no USER given");
        }
        request.user = argv[i++];
    }
    request.options.assign(argv + i, argv + argc);
    if (auto problem = misuse(request, given)) {
        return usage_error(*problem);
    }
    return request;
}

// The pam_oauth2.so line of the service (the first of its stage), how many there are, and the line
// as text; or the configuration error.
struct FoundService {
    pam_oauth2::ServiceLine line;
    std::size_t lines_found = 0;
    std::string text;
};

std::variant<FoundService, std::string> find_service_line(const Request& request)
{
    using pam_oauth2::printable;
    auto lines = pam_oauth2::module_lines(request.pam_dir, request.service, request.stage, "pam_oauth2.so");
    if (auto* problem = std::get_if<std::string>(&lines)) {
        return *problem;
    }
    auto& found = std::get<std::vector<pam_oauth2::ServiceLine>>(lines);
    if (found.empty()) {
        return "no " + request.stage + " line loads pam_oauth2.so in " + request.pam_dir + "/" + request.service;
    }
    FoundService service{std::move(found.front()), found.size(), ""};
    const auto& line = service.line;
    std::string shown;
    for (const auto& arg : line.args) {
        shown += " [" + arg + "]";
    }
    service.text = line.file + " line " + std::to_string(line.line) + ": " + line.type + " " + line.control +
                   " pam_oauth2.so" + shown;
    return service;
}

nlohmann::json service_report(const FoundService& service, const std::string& stage)
{
    return {{"file", service.line.file},
            {"line_number", service.line.line},
            {"line", service.text},
            {"control", service.line.control},
            {"arguments", service.line.args},
            {"lines_found", service.lines_found},
            {"stage", stage}};
}

void print_service(const FoundService& service, const std::string& stage)
{
    std::printf("service:  %s\n", pam_oauth2::printable(service.text).c_str());
    if (service.lines_found > 1) {
        std::printf("note:     %zu %s lines load pam_oauth2.so; this is the first\n", service.lines_found,
                    stage.c_str());
    }
}

void print_report(const nlohmann::json& report, Output output, bool dry_run)
{
    const std::string text = output == Output::Json ? pam_oauth2::report_json(report) + "\n"
                             : dry_run              ? pam_oauth2::dry_run_text(report)
                                                    : pam_oauth2::explanation_text(report);
    std::fputs(text.c_str(), stdout);
}

// A configuration error, in the form the output asks for (its log line is already on stderr).
int configuration_error(const pam_oauth2::ConfigError& error, Output output, nlohmann::json report)
{
    if (output != Output::Json) {
        std::printf("configuration error: %s\n", pam_oauth2::printable(error.message).c_str());
        return 3;
    }
    const int code = pam_oauth2::to_pam_code(pam_oauth2::Outcome::ConfigError);
    report["configuration_error"] = error.message;
    report["result"] = {{"result", "config_error"},
                        {"reason", error.message},
                        {"pam_code", code},
                        {"pam_code_name", pam_oauth2::pam_code_name(code)}};
    print_report(report, output, false);
    return 3;
}

int run_dry(const Request& request, const nlohmann::json& report)
{
    auto checked = pam_oauth2::dry_run(request.options);
    checked.report.update(report);
    print_report(checked.report, request.output == Output::Json ? Output::Json : Output::Plain, true);
    return checked.exit;
}

pam_oauth2::SecureString read_token()
{
    std::string line;
    std::getline(std::cin, line);
    pam_oauth2::SecureString token(line);
    line.assign(line.size(), '\0');
    return token;
}

// The module's log lines on standard error ("log:" and, with --debug, "debug:"): the decision line
// among them is the one the module would write.
pam_oauth2::LoginDependencies login_dependencies(const Request& request, pam_oauth2::LoginObserver* observer)
{
    pam_oauth2::LoginDependencies dependencies;
    dependencies.make_http = [](const pam_oauth2::HttpSettings& s) { return pam_oauth2::make_curl_http_client(s); };
    const bool debug = request.debug;
    dependencies.make_logger = [debug](const pam_oauth2::LogSettings&) {
        return pam_oauth2::Logger(
            [](int priority, const std::string& line) {
                std::fprintf(stderr, "%s %s\n",
                             priority == LOG_DEBUG ? "debug:" : "log:", pam_oauth2::printable(line).c_str());
            },
            debug);
    };
    dependencies.observer = observer;
    return dependencies;
}

void print_result(const pam_oauth2::LoginResult& result, std::size_t token_bytes)
{
    const auto& record = result.record;
    std::printf("result:   %s\nmethod:   %s\nreason:   %s\ntoken:    %s (%zu bytes)\n",
                pam_oauth2::result_word(record.outcome), record.method.empty() ? "none" : record.method.c_str(),
                pam_oauth2::printable(record.reason).c_str(), record.token_fingerprint.c_str(), token_bytes);
    if (const auto& until = result.verdict.valid_until) {
        std::printf("valid until: %lld (in %lld s, leeway included)\n", *until, *until - pam_oauth2::system_now());
    }
}

// The login through the core, with the token from standard input; the report (for --explain and
// --json) gathers the configuration and the token once they are known, and the trace.
int run_login(const Request& request, nlohmann::json report)
{
    const bool explain = request.output != Output::Plain;
    const std::vector<std::string_view> args(request.options.begin(), request.options.end());
    pam_oauth2::Trace trace;
    std::size_t token_bytes = 0;
    pam_oauth2::LoginRequest login;
    login.args = args;
    login.rhost = request.rhost;
    login.collect = [&](const pam_oauth2::Configuration& configuration) {
        pam_oauth2::Collected collected;
        collected.user = request.user;
        const auto& token = collected.token.emplace(read_token());
        token_bytes = token.size();
        if (explain) {
            report["user"] = request.user;
            report["configuration"] = pam_oauth2::configuration_report(configuration, args);
            report["token"] = pam_oauth2::token_report(token, pam_oauth2::system_now());
        }
        return collected;
    };
    auto loaded = pam_oauth2::load_configuration(args);
    std::optional<pam_oauth2::PrivateCache> private_cache; // removed when the login is done
    if (auto* configuration = std::get_if<pam_oauth2::Configuration>(&loaded); configuration && !request.use_cache) {
        private_cache.emplace().use_in(*configuration);
    }
    const auto result = pam_oauth2::login(loaded, login, login_dependencies(request, explain ? &trace : nullptr));
    if (result.configuration_error) {
        return configuration_error(*result.configuration_error, request.output, std::move(report));
    }
    if (explain) {
        report["steps"] = trace.steps();
        report["result"] = pam_oauth2::result_report(result, pam_oauth2::system_now());
        print_report(report, request.output, false);
    } else {
        print_result(result, token_bytes);
    }
    return exit_code(result.record.outcome);
}

// A service file without a usable line: a configuration error like any other, through the core.
int service_error(const Request& request, const std::string& problem, nlohmann::json report)
{
    const pam_oauth2::ConfigError error{problem, false};
    pam_oauth2::login(error, pam_oauth2::LoginRequest{}, login_dependencies(request, nullptr));
    return configuration_error(error, request.output, std::move(report));
}

int run(int argc, char** argv)
{
    auto parsed = parse_command_line(argc, argv);
    if (const int* answered = std::get_if<int>(&parsed)) {
        return *answered;
    }
    auto& request = std::get<Request>(parsed);
    auto report = nlohmann::json::object();
    if (!request.service.empty()) {
        auto found = find_service_line(request);
        if (auto* problem = std::get_if<std::string>(&found)) {
            return service_error(request, *problem, std::move(report));
        }
        auto& service = std::get<FoundService>(found);
        if (request.output == Output::Plain) {
            print_service(service, request.stage);
        } else {
            report["service"] = service_report(service, request.stage);
        }
        request.options = service.line.args;
    }
    if (request.dry_run) {
        return run_dry(request, report);
    }
    return run_login(request, std::move(report));
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception&) {
        std::fprintf(stderr, "internal error\n");
        return 1;
    }
}
