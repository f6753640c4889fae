/* Frame I/O on a connected socket with an absolute deadline, shared by pam_oauth2.so and
 * pam_oauth2d: nothing blocks past the deadline, whatever the peer does. */
#ifndef PAM_OAUTH2_BROKER_IO_H
#define PAM_OAUTH2_BROKER_IO_H

#include "broker_protocol.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Milliseconds on CLOCK_MONOTONIC, the clock of every deadline here. */
int64_t broker_now_ms(void);

/* Writes all of `frame`; 0, or -1 with errno (ETIMEDOUT at the deadline). */
int broker_send(int fd, const unsigned char* frame, size_t length, int64_t deadline_ms);

/* Reads one frame into a body it allocates (*body, *body_length; the caller wipes and frees it, even
 * on failure) and decodes it; 0, or -1 with errno (ETIMEDOUT, EPROTO for a malformed frame,
 * ECONNRESET when the peer hung up, ENOMEM). */
int broker_receive(int fd, int64_t deadline_ms, unsigned char** body, size_t* body_length, struct broker_message* out);

#ifdef __cplusplus
}
#endif

#endif
