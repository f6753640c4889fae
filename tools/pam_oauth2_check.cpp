// pam_oauth2_check: runs the module's decision for one user and one token outside PAM and explains
// it, so an administrator can test a pam.d line before PostgreSQL depends on it. See usage() and
// pam_oauth2_check(1). Exit status: 0 granted, 1 refused, 2 identity provider unavailable,
// 3 configuration error, 4 usage.
#include "authenticator.hpp"
#include "configuration.hpp"
#include "curl_http_client.hpp"
#include "outcome.hpp"
#include "pam_service_file.hpp"
#include "settings_parser.hpp"
#include "text.hpp"

#include <syslog.h>

#include <cstdio>
#include <cstring>
#include <iostream>
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
    "usage: pam_oauth2_check [--debug] USER OPTION...                  < token\n"
    "       pam_oauth2_check [--debug] --service NAME [--pam-dir DIR] [--stage auth|account] USER < token\n"
    "       pam_oauth2_check --list-options | --help | --version\n";

constexpr const char* help_text =
    "Runs pam_oauth2's decision for USER and the token on standard input, outside PAM.\n"
    "\n"
    "  OPTION...          module arguments exactly as written in a pam.d line (conf= included)\n"
    "  --service NAME     take them from the pam_oauth2.so line of /etc/pam.d/NAME instead, as libpam\n"
    "                     reads it (brackets, continuations, @include, include and substack)\n"
    "  --pam-dir DIR      read service files from DIR instead of /etc/pam.d\n"
    "  --stage STAGE      which line: auth (default) or account\n"
    "  --debug            the effective options and each step, on standard error\n"
    "  --list-options     every option, its default and group, as JSON\n"
    "\n"
    "Exit status: 0 granted, 1 refused, 2 identity provider unavailable, 3 configuration error, 4 usage.\n";

int usage_error(const std::string& problem)
{
    std::fprintf(stderr, "pam_oauth2_check: %s\n%s", problem.c_str(), usage_text);
    return 4;
}

// What the command line asks for.
struct Request {
    bool debug = false;
    std::string service;
    std::string pam_dir = "/etc/pam.d";
    std::string stage = "auth";
    std::string user;
    std::vector<std::string> options;
};

// The request, or the exit status when the command line already answered (help, misuse).
std::variant<Request, int> parse_command_line(int argc, char** argv)
{
    Request request;
    bool stage_given = false;
    bool pam_dir_given = false;
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
        } else if (flag == "--service" && has_value) {
            request.service = argv[++i];
        } else if (flag == "--pam-dir" && has_value) {
            request.pam_dir = argv[++i];
            pam_dir_given = true;
        } else if (flag == "--stage" && has_value) {
            request.stage = argv[++i];
            stage_given = true;
        } else {
            return usage_error(has_value || flag == "--list-options" ? "unknown or misplaced " + flag
                                                                     : flag + " needs a value");
        }
    }
    if (i >= argc) {
        return usage_error("no USER given");
    }
    request.user = argv[i++];
    request.options.assign(argv + i, argv + argc);
    if (request.service.empty() && (stage_given || pam_dir_given)) {
        return usage_error("--stage and --pam-dir go with --service");
    }
    if (!request.service.empty() && !request.options.empty()) {
        return usage_error("with --service the options come from the service file, not the command line");
    }
    if (request.service.find('/') != std::string::npos || request.service == "." || request.service == "..") {
        return usage_error("--service takes a service name, not a path (use --pam-dir for the directory)");
    }
    if (request.stage != "auth" && request.stage != "account") {
        return usage_error("--stage is auth or account");
    }
    return request;
}

// The module arguments of the service's pam_oauth2.so line, or the exit status after saying why not.
std::variant<std::vector<std::string>, int> options_from_service(const Request& request)
{
    auto lines = pam_oauth2::module_lines(request.pam_dir, request.service, request.stage, "pam_oauth2.so");
    if (auto* problem = std::get_if<std::string>(&lines)) {
        std::printf("configuration error: %s\n", pam_oauth2::printable(*problem).c_str());
        return 3;
    }
    const auto& found = std::get<std::vector<pam_oauth2::ServiceLine>>(lines);
    if (found.empty()) {
        std::printf("configuration error: no %s line loads pam_oauth2.so in %s/%s\n", request.stage.c_str(),
                    pam_oauth2::printable(request.pam_dir).c_str(), pam_oauth2::printable(request.service).c_str());
        return 3;
    }
    const auto& line = found.front();
    std::string shown;
    for (const auto& arg : line.args) {
        shown += " [" + pam_oauth2::printable(arg) + "]";
    }
    std::printf("service:  %s line %d: %s %s pam_oauth2.so%s\n", pam_oauth2::printable(line.file).c_str(), line.line,
                line.type.c_str(), pam_oauth2::printable(line.control).c_str(), shown.c_str());
    if (found.size() > 1) {
        std::printf("note:     %zu %s lines load pam_oauth2.so; this is the first\n", found.size(),
                    request.stage.c_str());
    }
    return line.args;
}

int run(int argc, char** argv)
{
    auto parsed = parse_command_line(argc, argv);
    if (const int* answered = std::get_if<int>(&parsed)) {
        return *answered;
    }
    Request& request = std::get<Request>(parsed);
    if (!request.service.empty()) {
        auto from_service = options_from_service(request);
        if (const int* failed = std::get_if<int>(&from_service)) {
            return *failed;
        }
        request.options = std::move(std::get<std::vector<std::string>>(from_service));
    }
    const bool debug = request.debug;
    const std::string& user = request.user;
    const std::vector<std::string_view> args(request.options.begin(), request.options.end());

    pam_oauth2::Logger logger(
        [](int priority, const std::string& line) {
            std::fprintf(stderr, "%s %s\n",
                         priority == LOG_DEBUG ? "debug:" : "log:", pam_oauth2::printable(line).c_str());
        },
        debug);
    const auto loaded = pam_oauth2::load_configuration(args);
    if (const auto* error = std::get_if<pam_oauth2::ConfigError>(&loaded)) {
        std::printf("configuration error: %s\n", pam_oauth2::printable(error->message).c_str());
        return 3;
    }
    const auto& configuration = std::get<pam_oauth2::Configuration>(loaded);
    logger.debug("options: " + pam_oauth2::describe_settings(configuration.settings));

    std::string line;
    std::getline(std::cin, line);
    const pam_oauth2::SecureString token(line);
    line.assign(line.size(), '\0');

    const auto decision = pam_oauth2::decide_login(
        user, token, configuration,
        [](const pam_oauth2::HttpSettings& s) { return pam_oauth2::make_curl_http_client(s); }, pam_oauth2::system_now,
        logger);
    std::printf("result:   %s\nmethod:   %s\nreason:   %s\ntoken:    %s (%zu bytes)\n",
                pam_oauth2::result_word(decision.outcome), decision.method.empty() ? "none" : decision.method.c_str(),
                pam_oauth2::printable(decision.reason).c_str(), pam_oauth2::token_fingerprint(token.view()).c_str(),
                token.size());
    if (decision.valid_until) {
        std::printf("valid until: %lld (in %lld s, leeway included)\n", *decision.valid_until,
                    *decision.valid_until - pam_oauth2::system_now());
    }
    return exit_code(decision.outcome);
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
