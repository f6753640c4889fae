// pam_oauth2_check: runs the module's decision for one user and one token outside PAM and explains
// it, so an administrator can test a pam.d line before PostgreSQL depends on it.
//
//   pam_oauth2_check [--debug] USER OPTION...   (the token is read from standard input)
//   pam_oauth2_check --list-options              (every option, its default and group, as JSON)
//
// OPTION... are the module arguments exactly as written in /etc/pam.d (conf= included). Exit status:
// 0 granted, 1 refused, 2 identity provider unavailable, 3 configuration error, 4 usage.
#include "authenticator.hpp"
#include "configuration.hpp"
#include "curl_http_client.hpp"
#include "outcome.hpp"
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

int run(int argc, char** argv)
{
    if (argc == 2 && std::strcmp(argv[1], "--list-options") == 0) {
        std::printf("%s\n", pam_oauth2::list_options_json().c_str());
        return 0;
    }
    bool debug = false;
    int first = 1;
    if (argc > 1 && std::strcmp(argv[1], "--debug") == 0) {
        debug = true;
        ++first;
    }
    if (argc - first < 1) {
        std::fprintf(stderr, "usage: %s [--debug] USER OPTION... < token\n       %s --list-options\n", argv[0],
                     argv[0]);
        return 4;
    }
    const std::string user = argv[first];
    std::vector<std::string_view> args(argv + first + 1, argv + argc);

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
