// A minimal PAM application for tests: runs pam_authenticate and pam_acct_mgmt through the real
// libpam, with the service file taken from a directory (pam_start_confdir) and the token answered
// by the conversation exactly as PostgreSQL answers it (echo-off prompts only).
//
// usage: pam_driver CONFDIR SERVICE USER [--repeat N] [--null-answer] [--stats] [--acct-delay SECONDS]
// The token is read from the environment variable PAM_OAUTH2_TEST_TOKEN (a token never goes on a
// command line); with --repeat it may be a comma-separated list, used in turn. Prints
// "authenticate=PAM_... acct_mgmt=PAM_..." for a single cycle.
#include <security/pam_appl.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <string>
#include <vector>

namespace {

struct Answer {
    const char* token;
    bool null_answer;
};

const char* code_name(int code)
{
    switch (code) {
    case PAM_SUCCESS: return "PAM_SUCCESS";
    case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
    case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
    case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
    case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
    case PAM_BUF_ERR: return "PAM_BUF_ERR";
    case PAM_INCOMPLETE: return "PAM_INCOMPLETE";
    case PAM_IGNORE: return "PAM_IGNORE";
    case PAM_ACCT_EXPIRED: return "PAM_ACCT_EXPIRED";
    case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
    case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
    case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
    case PAM_ABORT: return "PAM_ABORT";
    default: return "PAM_OTHER";
    }
}

int converse(int count, const pam_message** messages, pam_response** responses, void* data)
{
    const auto* answer = static_cast<const Answer*>(data);
    auto* replies = static_cast<pam_response*>(std::calloc(static_cast<size_t>(count), sizeof(pam_response)));
    if (replies == nullptr) {
        return PAM_BUF_ERR;
    }
    for (int i = 0; i < count; ++i) {
        if (messages[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
            // PostgreSQL's conversation; pgbouncer-like callers may answer NULL.
            replies[i].resp = answer->null_answer ? nullptr : strdup(answer->token);
        } else if (messages[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            std::free(replies);
            return PAM_CONV_ERR; // as PostgreSQL does
        }
    }
    *responses = replies;
    return PAM_SUCCESS;
}

long resident_kib()
{
    FILE* status = std::fopen("/proc/self/status", "r");
    if (status == nullptr) {
        return -1;
    }
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof line, status) != nullptr) {
        if (std::strncmp(line, "VmRSS:", 6) == 0) {
            kib = std::strtol(line + 6, nullptr, 10);
        }
    }
    std::fclose(status);
    return kib;
}

int open_fds()
{
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) {
        return -1;
    }
    int count = 0;
    while (readdir(dir) != nullptr) {
        ++count;
    }
    closedir(dir);
    return count - 3; // ".", ".." and the directory itself
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s CONFDIR SERVICE USER [--repeat N] [--null-answer] [--stats] [--acct-delay S]\n",
                     argv[0]);
        return 2;
    }
    long repeat = 1;
    bool stats = false;
    unsigned acct_delay = 0;
    const char* env_token = std::getenv("PAM_OAUTH2_TEST_TOKEN");
    std::vector<std::string> tokens{""};
    if (env_token != nullptr) {
        tokens.clear();
        const std::string all(env_token);
        std::size_t start = 0;
        for (std::size_t comma = all.find(','); comma != std::string::npos; comma = all.find(',', start)) {
            tokens.push_back(all.substr(start, comma - start));
            start = comma + 1;
        }
        tokens.push_back(all.substr(start));
    }
    Answer answer{tokens[0].c_str(), false};
    for (int i = 4; i < argc; ++i) {
        if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = std::strtol(argv[++i], nullptr, 10);
        } else if (std::strcmp(argv[i], "--null-answer") == 0) {
            answer.null_answer = true;
        } else if (std::strcmp(argv[i], "--acct-delay") == 0 && i + 1 < argc) {
            acct_delay = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
        } else if (std::strcmp(argv[i], "--stats") == 0) {
            stats = true;
        } else {
            std::fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (stats) {
        std::printf("start rss_kib=%ld fds=%d\n", resident_kib(), open_fds());
    }
    const pam_conv conversation{converse, &answer};
    for (long cycle = 0; cycle < repeat; ++cycle) {
        answer.token = tokens[static_cast<std::size_t>(cycle) % tokens.size()].c_str();
        pam_handle_t* pamh = nullptr;
        int status = pam_start_confdir(argv[2], argv[3], &conversation, argv[1], &pamh);
        if (status != PAM_SUCCESS) {
            std::printf("pam_start=%s\n", code_name(status));
            return 1;
        }
        pam_set_item(pamh, PAM_RHOST, "127.0.0.1");
        const int auth = pam_authenticate(pamh, 0);
        if (auth == PAM_SUCCESS && acct_delay > 0) {
            sleep(acct_delay); // lets a token expire between the two stages
        }
        const int acct = auth == PAM_SUCCESS ? pam_acct_mgmt(pamh, 0) : -1;
        if (repeat == 1) {
            std::printf("authenticate=%s acct_mgmt=%s\n", code_name(auth), acct == -1 ? "-" : code_name(acct));
        }
        pam_end(pamh, auth);
        if (stats && cycle == 0) {
            // After one cycle the libraries the module pulls in (some never unloaded) are resident;
            // growth from here on is what a leak would look like.
            std::printf("warm rss_kib=%ld fds=%d\n", resident_kib(), open_fds());
        }
    }
    if (stats) {
        std::printf("end rss_kib=%ld fds=%d\n", resident_kib(), open_fds());
    }
    return 0;
}
