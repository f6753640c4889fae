// pam_oauth2d: the local verification broker. pam_oauth2.so with the `broker` argument hands each
// login to it over a Unix socket; it verifies with the same core as the module, keeping what a
// fresh process throws away (warm connections, documents, verdicts) in memory.
#include "daemon_config.hpp"
#include "logger.hpp"
#include "logout_tls.hpp"
#include "server.hpp"

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#ifndef PAM_OAUTH2_VERSION
#define PAM_OAUTH2_VERSION "unknown"
#endif

namespace {

constexpr const char* default_config = "/etc/pam_oauth2/pam_oauth2d.conf";

void usage(std::FILE* to)
{
    static_cast<void>(std::fprintf(to,
                                   "usage: pam_oauth2d [--config FILE] [--check-config]\n"
                                   "       pam_oauth2d --list-options | --version | --help\n"
                                   "\n"
                                   "Serves pam_oauth2.so's `broker` logins on a Unix socket (see pam_oauth2d(8)).\n"
                                   "  --config FILE    configuration file (default %s)\n"
                                   "  --check-config   check the configuration, print it, exit 0 when it is usable\n"
                                   "  --list-options   print every configuration key with its default, as JSON\n",
                                   default_config));
}

// One line per message on stderr, with the syslog priority as journald reads it ("<3>...").
pam_oauth2::Logger stderr_logger()
{
    return pam_oauth2::Logger([](int priority, const std::string& line) {
        static_cast<void>(std::fprintf(stderr, "<%d>pam_oauth2d: %s\n", priority, line.c_str()));
        static_cast<void>(std::fflush(stderr));
    });
}

} // namespace

namespace {

int run(int argc, char** argv)
{
    std::string config_path = default_config;
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            usage(stdout);
            return 0;
        }
        if (arg == "--version") {
            static_cast<void>(std::printf("pam_oauth2d %s\n", PAM_OAUTH2_VERSION));
            return 0;
        }
        if (arg == "--list-options") {
            static_cast<void>(std::printf("%s\n", pam_oauth2::list_daemon_options_json().c_str()));
            return 0;
        }
        if (arg == "--check-config") {
            check_only = true;
        } else if (arg == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    const pam_oauth2::Logger logger = stderr_logger();
    auto loaded = pam_oauth2::load_daemon_config(config_path);
    if (auto* problem = std::get_if<std::string>(&loaded)) {
        logger.log(3, "configuration error: " + *problem);
        return 1;
    }
    auto& config = std::get<pam_oauth2::DaemonConfig>(loaded);
    // Read now, before privileges drop; a reload does not read them again.
    auto tls = pam_oauth2::load_logout_tls(config);
    if (!tls.ok()) {
        logger.log(3, "configuration error: " + config_path + ": " + tls.error());
        return 1;
    }
    config.logout_tls = tls.value();
    if (check_only) {
        static_cast<void>(
            std::printf("%s: OK\n%s\n", config_path.c_str(), pam_oauth2::describe_daemon_config(config).c_str()));
        return 0;
    }
    return pam_oauth2::run_daemon(config_path, config, logger);
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (...) {
        static_cast<void>(std::fputs("<2>pam_oauth2d: internal error (unexpected exception)\n", stderr));
        return 1;
    }
}
