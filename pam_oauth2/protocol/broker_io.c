#define _POSIX_C_SOURCE 200809L /* clock_gettime, poll */
#include "broker_io.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t broker_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Waits until `fd` is ready for `events` or the deadline passes. */
static int wait_ready(int fd, short events, int64_t deadline_ms)
{
    for (;;) {
        const int64_t left = deadline_ms - broker_now_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd ready = {.fd = fd, .events = events, .revents = 0};
        const int count = poll(&ready, 1, left > 60000 ? 60000 : (int)left);
        if (count > 0) {
            return 0;
        }
        if (count < 0 && errno != EINTR) {
            return -1;
        }
    }
}

/* Each call tries the socket first and waits only when it would block: a request arrives with its
 * connection and an answer usually fits the socket buffer, so most frames cost no poll(2) at all.
 * The deadline is checked before every attempt, so a peer trickling bytes is still cut off. */
int broker_send(int fd, const unsigned char* frame, size_t length, int64_t deadline_ms)
{
    size_t sent = 0;
    while (sent < length) {
        if (broker_now_ms() >= deadline_ms) {
            errno = ETIMEDOUT;
            return -1;
        }
        /* MSG_NOSIGNAL: a peer that hung up must not kill the host process with SIGPIPE. */
        const ssize_t wrote = send(fd, frame + sent, length - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (wrote < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (wait_ready(fd, POLLOUT, deadline_ms) != 0) {
                    return -1;
                }
            } else if (errno != EINTR) {
                return -1;
            }
            continue;
        }
        sent += (size_t)wrote;
    }
    return 0;
}

static int read_exactly(int fd, unsigned char* into, size_t length, int64_t deadline_ms)
{
    size_t got = 0;
    while (got < length) {
        if (broker_now_ms() >= deadline_ms) {
            errno = ETIMEDOUT;
            return -1;
        }
        const ssize_t read_now = recv(fd, into + got, length - got, MSG_DONTWAIT);
        if (read_now == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (read_now < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (wait_ready(fd, POLLIN, deadline_ms) != 0) {
                    return -1;
                }
            } else if (errno != EINTR) {
                return -1;
            }
            continue;
        }
        got += (size_t)read_now;
    }
    return 0;
}

int broker_receive(int fd, int64_t deadline_ms, unsigned char** body, size_t* body_length, struct broker_message* out)
{
    unsigned char header[broker_header_bytes];
    uint32_t length = 0;
    *body = NULL;
    *body_length = 0;
    if (read_exactly(fd, header, sizeof header, deadline_ms) != 0) {
        return -1;
    }
    if (broker_read_header(header, &length) != 0) {
        errno = EPROTO;
        return -1;
    }
    *body = malloc(length);
    if (*body == NULL) {
        errno = ENOMEM;
        return -1;
    }
    *body_length = length;
    if (read_exactly(fd, *body, length, deadline_ms) != 0) {
        return -1;
    }
    if (broker_decode(*body, length, out) != 0) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}
