/* The wire format between pam_oauth2.so and pam_oauth2d, in C so the module's broker path needs no
 * C++ runtime. A login is two connections, each carrying one request and its answer (or REFUSED):
 * PREPARE -> PREPARED before the conversation, then, once the token is collected, VERIFY -> VERDICT.
 * Both requests carry the module arguments and the service (the daemon finds the configuration in its
 * cache the second time), so no connection and no daemon thread waits while a person types.
 * Version 2; version 1 kept one connection open across the conversation.
 *
 * A frame is an 8-byte header ("PO2", the version byte, the body length as uint32 big-endian) and a
 * body of at most broker_max_body bytes: one type byte, then fields, each a tag byte, a uint32
 * big-endian length and that many bytes. Integers are int64 big-endian (8 bytes). Unknown types,
 * unknown tags, short or overlong fields and trailing bytes are all refused. */
#ifndef PAM_OAUTH2_BROKER_PROTOCOL_H
#define PAM_OAUTH2_BROKER_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where pam_oauth2d listens unless configured otherwise (a bare `broker` module argument). */
#define BROKER_DEFAULT_SOCKET "/run/pam_oauth2/pam_oauth2d.sock"

enum {
    broker_protocol_version = 2,
    broker_header_bytes = 8,
    /* The longest token max_token_bytes allows (1 MiB) plus every module argument. */
    broker_max_body = (1024 + 64) * 1024,
    broker_max_fields = 256,
};

enum broker_type {
    broker_prepare = 1,  /* client: module arguments and service */
    broker_prepared = 2, /* daemon: how to ask for the token, the time budget, or a verdict already */
    broker_verify = 3,   /* client: module arguments, service, user, remote host, token (or reason) */
    broker_verdict = 4,  /* daemon: PAM code, log line, valid_until */
    broker_refused = 5,  /* daemon: this peer or request is not served (reason) */
};

enum broker_tag {
    broker_arg = 1,             /* repeated: one module argument each, in order */
    broker_service = 2,         /* PAM_SERVICE */
    broker_user = 3,            /* PAM user */
    broker_rhost = 4,           /* PAM_RHOST */
    broker_token = 5,           /* the token (only in VERIFY) */
    broker_pam_code = 6,        /* int: the PAM code to return (in VERIFY: why no token came) */
    broker_priority = 7,        /* int: syslog priority of log_line */
    broker_log_line = 8,        /* the decision line, already escaped */
    broker_prompt = 9,          /* conversation prompt */
    broker_use_first_pass = 10, /* int 0/1 */
    broker_budget_ms = 11,      /* int: the daemon answers VERIFY within this */
    broker_log_stderr = 12,     /* int 0/1: log=stderr */
    broker_valid_until = 13,    /* int: last accepted second (exp + leeway) */
    broker_reason = 14,         /* why a request was refused */
    broker_tag_count = 15,
};

struct broker_field {
    uint8_t tag;
    uint32_t length;
    const unsigned char* value; /* points into the decoded body */
};

struct broker_message {
    uint8_t type;
    size_t field_count;
    struct broker_field fields[broker_max_fields];
};

/* The body length a header announces; -1 for a wrong magic, version or a body over the cap. */
int broker_read_header(const unsigned char header[broker_header_bytes], uint32_t* body_length);

/* Splits a body into fields (no copies); -1 when it is malformed in any way. */
int broker_decode(const unsigned char* body, size_t length, struct broker_message* out);

/* The first field with `tag`, or NULL. */
const struct broker_field* broker_find(const struct broker_message* message, uint8_t tag);
/* An int64 field; -1 when absent or not 8 bytes. */
int broker_find_int(const struct broker_message* message, uint8_t tag, int64_t* out);

/* Builds a frame in a caller's buffer; any overflow makes broker_writer_finish return 0. */
struct broker_writer {
    unsigned char* buffer;
    size_t capacity;
    size_t length;
    int overflow;
};
void broker_writer_begin(struct broker_writer* writer, unsigned char* buffer, size_t capacity, uint8_t type);
void broker_writer_add(struct broker_writer* writer, uint8_t tag, const void* value, size_t length);
void broker_writer_add_text(struct broker_writer* writer, uint8_t tag, const char* text);
void broker_writer_add_int(struct broker_writer* writer, uint8_t tag, int64_t value);
/* The frame's total length, or 0 when it did not fit. */
size_t broker_writer_finish(struct broker_writer* writer);

#ifdef __cplusplus
}
#endif

#endif
