/* The three module arguments the front acts on itself (broker, broker=PATH, broker_fallback=) and
 * log=stderr for its own log lines. Every other argument is the verifier's (option_table.cpp lists
 * all of them, these included). */
#ifndef PAM_OAUTH2_FRONT_OPTIONS_H
#define PAM_OAUTH2_FRONT_OPTIONS_H

#include <stddef.h>

enum broker_fallback { fallback_local, fallback_deny };

struct front_options {
    const char* socket_path; /* NULL: verify in-process */
    enum broker_fallback fallback;
    int log_stderr;
};

/* 0, or -1 with `why` naming the bad argument. */
int front_parse_options(int argc, const char** argv, struct front_options* out, char* why, size_t why_size);

#endif
