/* The decision line of the C front, in the form and with the escaping of the core's format_decision
 * and log_value (core/logger.cpp), so the lines the front writes itself read like every other one:
 * result=WORD reason="..." user=U method=M token=T rhost=H ms=N. A unit test holds the two equal. */
#ifndef PAM_OAUTH2_DECISION_LINE_H
#define PAM_OAUTH2_DECISION_LINE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What one decision line says. NULL or "" stands for "not known": "-" (reason, user, token, rhost)
 * or "none" (method). `result` is the core's result word ("denied", "unavailable", "error", ...). */
struct decision_fields {
    const char* result;
    const char* reason; /* quoted, with quotes, backslashes, control bytes and bytes >= 0x7f escaped */
    const char* user;   /* only a user the decision may log; escaped as log_value does */
    const char* method; /* a method name the module chose ("broker", "none"), written as is */
    const char* token;  /* the token fingerprint (sha256:...), written as is */
    const char* rhost;  /* escaped as log_value does */
    long elapsed_ms;
};

/* Writes the line into `out` (NUL-terminated whenever size > 0) and returns the length of the whole
 * line: when that is size or more the line was cut, as with snprintf. */
size_t decision_line(char* out, size_t size, const struct decision_fields* fields);

#ifdef __cplusplus
}
#endif

#endif
