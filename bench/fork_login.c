/* Logins in fresh processes the way a fork-per-login host runs them: this process has only libc and
 * libpam loaded, and each login is a fork() without exec() that runs pam_start_confdir,
 * pam_authenticate, pam_acct_mgmt and pam_end, then exits. The parent times each child.
 *
 *   fork_login CONFDIR USER ROUNDS SERVICE...
 *
 * Service i answers its prompt with the environment variable FORK_LOGIN_TOKEN_<i> (tokens never go on
 * a command line). Rounds alternate the services login by login, so all see the same moments of a
 * noisy machine. Prints one line per service: "SERVICE p50_ms p95_ms failures p50_maxrss_kib", the last
 * being the child's peak resident memory (what the login added to the host process).
 * With FORK_LOGIN_PER_ROUND=1 each round answers with the token followed by the round's number, so a
 * round's logins all present a token no earlier round did (bench/fleet_bench.py: the first login of a
 * round is answered from the shared cache, the second from memory). */
#define _GNU_SOURCE
#include <security/pam_appl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* answer_token;

static int converse(int count, const struct pam_message** messages, struct pam_response** responses, void* data)
{
    (void)data;
    struct pam_response* replies = calloc((size_t)count, sizeof *replies);
    if (replies == NULL) {
        return PAM_BUF_ERR;
    }
    for (int i = 0; i < count; ++i) {
        if (messages[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
            replies[i].resp = strdup(answer_token);
        }
    }
    *responses = replies;
    return PAM_SUCCESS;
}

static int one_login(const char* confdir, const char* service, const char* user)
{
    const struct pam_conv conversation = {converse, NULL};
    pam_handle_t* pamh = NULL;
    int status = pam_start_confdir(service, user, &conversation, confdir, &pamh);
    if (status == PAM_SUCCESS) {
        pam_set_item(pamh, PAM_RHOST, "127.0.0.1");
        status = pam_authenticate(pamh, 0);
        if (status == PAM_SUCCESS) {
            status = pam_acct_mgmt(pamh, 0);
        }
        pam_end(pamh, status);
    }
    return status;
}

static double now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6;
}

static int by_value(const void* a, const void* b)
{
    const double x = *(const double*)a;
    const double y = *(const double*)b;
    return (x > y) - (x < y);
}

int main(int argc, char** argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s CONFDIR USER ROUNDS SERVICE...\n", argv[0]);
        return 4;
    }
    const char* confdir = argv[1];
    const char* user = argv[2];
    const int rounds = atoi(argv[3]);
    const int services = argc - 4;
    double* times = calloc((size_t)(rounds * services), sizeof *times);
    double* rss = calloc((size_t)(rounds * services), sizeof *rss);
    int* failures = calloc((size_t)services, sizeof *failures);
    if (rounds <= 0 || times == NULL || rss == NULL || failures == NULL) {
        return 4;
    }
    const int per_round = getenv("FORK_LOGIN_PER_ROUND") != NULL && strcmp(getenv("FORK_LOGIN_PER_ROUND"), "1") == 0;
    for (int round = 0; round < rounds; ++round) {
        for (int s = 0; s < services; ++s) {
            char name[64];
            static char numbered[4096];
            snprintf(name, sizeof name, "FORK_LOGIN_TOKEN_%d", s);
            answer_token = getenv(name) != NULL ? getenv(name) : "";
            if (per_round) {
                snprintf(numbered, sizeof numbered, "%s%d", answer_token, round);
                answer_token = numbered;
            }
            const double started = now_ms();
            const pid_t child = fork();
            if (child == 0) {
                _exit(one_login(confdir, argv[4 + s], user) == PAM_SUCCESS ? 0 : 1);
            }
            int status = 0;
            struct rusage usage;
            memset(&usage, 0, sizeof usage);
            wait4(child, &status, 0, &usage);
            times[s * rounds + round] = now_ms() - started;
            rss[s * rounds + round] = (double)usage.ru_maxrss;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                ++failures[s];
            }
        }
    }
    for (int s = 0; s < services; ++s) {
        double* mine = times + s * rounds;
        double* peaks = rss + s * rounds;
        qsort(mine, (size_t)rounds, sizeof *mine, by_value);
        qsort(peaks, (size_t)rounds, sizeof *peaks, by_value);
        printf("%s %.3f %.3f %d %.0f\n", argv[4 + s], mine[rounds / 2], mine[(rounds * 95) / 100], failures[s],
               peaks[rounds / 2]);
    }
    return 0;
}
