/* The module arguments the front acts on itself: broker, broker=PATH and broker_fallback=, and log=
 * for its own log lines (those written before the verifier or the daemon answers). Every other
 * argument is the verifier's. option_table.cpp declares all of them, these included; the front reads
 * these four exactly as the table does (the same values accepted and refused, the last one given
 * wins, [key=value] brackets stripped), which tests/unit/test_front_options.cpp pins. A conf= file is
 * never read here: a `log` in it applies to the lines the verifier and the daemon write, not to the
 * front's own. */
#ifndef PAM_OAUTH2_FRONT_OPTIONS_H
#define PAM_OAUTH2_FRONT_OPTIONS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum broker_fallback { fallback_local, fallback_deny };

/* Longest broker=PATH accepted (a Unix socket path is far shorter). */
#define FRONT_SOCKET_PATH_MAX 4096

struct front_options {
    const char* socket_path; /* NULL: verify in-process; else points into `socket_buffer` */
    enum broker_fallback fallback;
    int log_stderr; /* log=stderr among the arguments */
    char socket_buffer[FRONT_SOCKET_PATH_MAX];
};

/* Reads the four options from the module arguments into `out` (always initialised, even on error).
 * 0, or -1 with `why` naming the bad argument, worded as the option table words it. */
int front_parse_options(int argc, const char** argv, struct front_options* out, char* why, size_t why_size);

#ifdef __cplusplus
}
#endif

#endif
