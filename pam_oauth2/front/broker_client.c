#define _GNU_SOURCE /* struct ucred */
#include "broker_client.h"

#include "broker_io.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef PAM_OAUTH2_DAEMON_USER
#define PAM_OAUTH2_DAEMON_USER "pam_oauth2"
#endif

enum {
    /* Connecting and PREPARE: a local daemon answers in microseconds; this only bounds a stuck one. */
    prepare_budget_ms = 2000,
    /* Beyond the daemon's own budget, for scheduling and the trip back. */
    answer_margin_ms = 1000,
};

__attribute__((format(printf, 2, 3))) static void unavailable(struct broker_login* login, const char* format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(login->why, sizeof login->why, format, args);
    va_end(args);
}

/* root (socket activation, or a daemon that dropped privileges after listen) or the daemon's user.
 * The user's uid is looked up once per process (a login connects twice, and each connection checks
 * both the socket's owner and the peer); a race between threads only looks it up twice. */
static int trusted_uid(uid_t uid)
{
    static uid_t daemon_uid;
    static int known; /* 0: not looked up yet, 1: daemon_uid holds it, 2: no such user */
    if (uid == 0) {
        return 1;
    }
    int state = __atomic_load_n(&known, __ATOMIC_ACQUIRE);
    if (state == 0) {
        char buffer[4096];
        struct passwd entry;
        struct passwd* found = NULL;
        const int status = getpwnam_r(PAM_OAUTH2_DAEMON_USER, &entry, buffer, sizeof buffer, &found);
        if (status != 0) {
            return 0; /* a failed lookup (not a missing user) is not remembered */
        }
        state = found != NULL ? 1 : 2;
        if (found != NULL) {
            __atomic_store_n(&daemon_uid, found->pw_uid, __ATOMIC_RELAXED);
        }
        __atomic_store_n(&known, state, __ATOMIC_RELEASE);
    }
    return state == 1 && __atomic_load_n(&daemon_uid, __ATOMIC_RELAXED) == uid;
}

/* A connected socket to the real daemon, or -1: a local user must not be able to stand in for it. */
static int connect_daemon(const char* path, int64_t deadline_ms, struct broker_login* login)
{
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address.sun_path) {
        unavailable(login, "socket path %s is too long", path);
        return -1;
    }
    memcpy(address.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) != 0) {
        unavailable(login, "pam_oauth2d is not running (%s: %s)", path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode) || !trusted_uid(st.st_uid)) {
        unavailable(login, "%s is not a socket owned by root or %s (owner uid %u): refused", path,
                    PAM_OAUTH2_DAEMON_USER, (unsigned)st.st_uid);
        return -1;
    }
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        unavailable(login, "cannot create a socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (const struct sockaddr*)&address, sizeof address) != 0) {
        int error = errno;
        if (error == EAGAIN || error == EINPROGRESS) {
            /* A full backlog: wait for room, within the budget. */
            struct pollfd ready = {.fd = fd, .events = POLLOUT, .revents = 0};
            const int64_t left = deadline_ms - broker_now_ms();
            socklen_t length = sizeof error;
            error = ETIMEDOUT;
            if (left > 0 && poll(&ready, 1, (int)left) == 1) {
                error = 0;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
            }
        }
        if (error != 0) {
            unavailable(login, "cannot connect to pam_oauth2d at %s: %s", path, strerror(error));
            close(fd);
            return -1;
        }
    }
    struct ucred peer;
    socklen_t length = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 || !trusted_uid(peer.uid)) {
        unavailable(login, "the process behind %s is neither root nor %s: refused", path, PAM_OAUTH2_DAEMON_USER);
        close(fd);
        return -1;
    }
    return fd;
}

static const char* item_or_empty(pam_handle_t* pamh, int item)
{
    const void* value = NULL;
    if (pam_get_item(pamh, item, &value) != PAM_SUCCESS || value == NULL) {
        return "";
    }
    return value;
}

/* Sends one frame from a buffer sized for it, wiped afterwards (a VERIFY frame holds the token). */
static int send_frame(int fd, unsigned char type, const char* const* texts, const unsigned char* tags, size_t count,
                      const int64_t* number, unsigned char number_tag, int64_t deadline_ms)
{
    size_t capacity = broker_header_bytes + 1 + 5 + 8;
    for (size_t i = 0; i < count; ++i) {
        capacity += 5 + strlen(texts[i]);
    }
    unsigned char* buffer = malloc(capacity);
    if (buffer == NULL) {
        errno = ENOMEM;
        return -1;
    }
    struct broker_writer writer;
    broker_writer_begin(&writer, buffer, capacity, type);
    for (size_t i = 0; i < count; ++i) {
        broker_writer_add_text(&writer, tags[i], texts[i]);
    }
    if (number != NULL) {
        broker_writer_add_int(&writer, number_tag, *number);
    }
    const size_t length = broker_writer_finish(&writer);
    int status = -1;
    if (length == 0) {
        errno = EMSGSIZE;
    } else {
        status = broker_send(fd, buffer, length, deadline_ms);
    }
    explicit_bzero(buffer, capacity);
    free(buffer);
    return status;
}

/* What every request of a login carries: each connection holds the login's whole context. */
struct login_context {
    pam_handle_t* pamh;
    const struct front_options* options;
    int argc;
    const char** argv;
};

/* One request: PREPARE or VERIFY, the fields it adds to the context, and when it must be answered. */
struct request {
    unsigned char type;
    const char* const* extra;
    const unsigned char* extra_tags;
    size_t extra_count;
    const int64_t* code; /* sent as broker_pam_code when not NULL */
    int64_t deadline_ms;
};

/* An answer: `message` points into `body`, which the receiver releases. */
struct answer {
    unsigned char* body;
    size_t length;
    struct broker_message* message;
};

/* The module arguments and the service, then the request's own fields. */
static int send_request(int fd, const struct login_context* context, const struct request* request)
{
    const int argc = context->argc;
    const char** argv = context->argv;
    const char* service = item_or_empty(context->pamh, PAM_SERVICE);
    const size_t extra_count = request->extra_count;
    const size_t room = (size_t)argc + 1 + extra_count;
    const char** texts = calloc(room, sizeof *texts);
    unsigned char* tags = calloc(room, 1);
    int status = -1;
    if (texts != NULL && tags != NULL) {
        size_t count = 0;
        for (int i = 0; i < argc; ++i) {
            if (argv[i] != NULL) {
                texts[count] = argv[i];
                tags[count++] = broker_arg;
            }
        }
        texts[count] = service;
        tags[count++] = broker_service;
        for (size_t i = 0; i < extra_count; ++i) {
            texts[count] = request->extra[i];
            tags[count++] = request->extra_tags[i];
        }
        status =
            send_frame(fd, request->type, texts, tags, count, request->code, broker_pam_code, request->deadline_ms);
    } else {
        errno = ENOMEM;
    }
    free(texts);
    free(tags);
    return status;
}

/* A text field as a C string in `out` (cut to fit), or "" when absent. */
static void field_text(const struct broker_message* message, unsigned char tag, char* out, size_t size)
{
    const struct broker_field* field = broker_find(message, tag);
    const size_t length = field == NULL ? 0 : field->length < size ? field->length : size - 1;
    if (length > 0) {
        memcpy(out, field->value, length);
    }
    out[length] = '\0';
}

static int64_t field_int(const struct broker_message* message, unsigned char tag, int64_t otherwise)
{
    int64_t value = 0;
    return broker_find_int(message, tag, &value) == 0 ? value : otherwise;
}

/* Logs a VERDICT (or a PREPARED that already decided) and takes its code. */
static void take_verdict(pam_handle_t* pamh, const struct broker_message* message, int log_stderr,
                         struct broker_login* login)
{
    char line[2048];
    field_text(message, broker_log_line, line, sizeof line);
    login->answered = 1;
    login->pam_code = (int)field_int(message, broker_pam_code, PAM_SYSTEM_ERR);
    if (line[0] != '\0') {
        handle_log(pamh, log_stderr, "auth", (int)field_int(message, broker_priority, 3), line);
    }
    if (login->pam_code == PAM_SUCCESS) {
        int64_t until = 0;
        login->verdict.granted = 1;
        login->verdict.has_valid_until = broker_find_int(message, broker_valid_until, &until) == 0;
        login->verdict.valid_until = until;
    }
}

static void release(unsigned char* body, size_t length)
{
    if (body != NULL) {
        explicit_bzero(body, length);
        free(body);
    }
}

/* How the daemon asked for the token (its PREPARED answer). */
struct prepared {
    char prompt[256];
    int use_first_pass;
    int64_t budget_ms;
    int log_stderr;
};

/* Connects, sends one request and reads its answer; the connection is closed before returning.
 * 0, or -1 with login->why set. */
static int exchange(const struct login_context* context, const struct request* request, struct answer* answer,
                    struct broker_login* login)
{
    const unsigned char type = request->type;
    struct broker_message* message = answer->message;
    const int fd = connect_daemon(context->options->socket_path, request->deadline_ms, login);
    if (fd < 0) {
        return -1;
    }
    /* A daemon that refuses this peer answers at once and closes, possibly before the request is
     * sent: a failed send is followed by a read, so its reason is not lost behind EPIPE. */
    const int sent = send_request(fd, context, request);
    const int send_error = errno;
    const int received = broker_receive(fd, request->deadline_ms, &answer->body, &answer->length, message);
    const int receive_error = errno;
    close(fd);
    if (received != 0) {
        unavailable(login, "pam_oauth2d did not answer%s: %s", type == broker_verify ? " in time" : "",
                    strerror(sent != 0 ? send_error : receive_error));
        return -1;
    }
    if (message->type == broker_refused) {
        char reason[256];
        field_text(message, broker_reason, reason, sizeof reason);
        unavailable(login, "pam_oauth2d refused this process: %s", reason);
        return -1;
    }
    if (message->type != (type == broker_prepare ? broker_prepared : broker_verdict)) {
        unavailable(login, "pam_oauth2d answered out of turn");
        return -1;
    }
    return 0;
}

/* PREPARE on its own connection: 0 with `out` filled, 1 when the daemon already decided (a
 * configuration error, logged and taken), -1 when it could not be used. */
static int prepare(const struct login_context* context, struct broker_message* message, struct prepared* out,
                   struct broker_login* login)
{
    const struct request request = {broker_prepare, NULL, NULL, 0, NULL, broker_now_ms() + prepare_budget_ms};
    struct answer answer = {NULL, 0, message};
    int status = exchange(context, &request, &answer, login);
    if (status == 0) {
        /* log=stderr as the daemon read it, or as the front saw it when the arguments did not parse. */
        out->log_stderr = context->options->log_stderr || field_int(message, broker_log_stderr, 0) != 0;
        if (broker_find(message, broker_pam_code) != NULL) {
            take_verdict(context->pamh, message, out->log_stderr, login); /* no token is asked for */
            status = 1;
        } else {
            field_text(message, broker_prompt, out->prompt, sizeof out->prompt);
            out->use_first_pass = field_int(message, broker_use_first_pass, 0) != 0;
            out->budget_ms = field_int(message, broker_budget_ms, 5000);
        }
    }
    release(answer.body, answer.length);
    return status;
}

void broker_authenticate(pam_handle_t* pamh, const struct front_options* options, int argc, const char** argv,
                         struct broker_login* login)
{
    memset(login, 0, sizeof *login);
    const struct login_context context = {pamh, options, argc, argv};
    struct broker_message* message = malloc(sizeof *message);
    if (message == NULL) {
        unavailable(login, "out of memory");
        return;
    }
    struct prepared asked;
    memset(&asked, 0, sizeof asked);
    if (prepare(&context, message, &asked, login) != 0) {
        free(message);
        return;
    }
    /* No connection is open while the person types: the daemon holds nothing for this login. */
    const char* user = NULL;
    char why[256] = "";
    const int collected =
        handle_collect(pamh, asked.use_first_pass, asked.prompt, &user, &login->token, why, sizeof why);
    /* The daemon writes every decision line, a failed conversation's too, so they read alike. */
    const char* texts[3] = {user != NULL ? user : "", item_or_empty(pamh, PAM_RHOST),
                            collected == PAM_SUCCESS ? login->token : why};
    const unsigned char tags[3] = {broker_user, broker_rhost, collected == PAM_SUCCESS ? broker_token : broker_reason};
    const int64_t code = collected;
    const int64_t budget_ms = asked.budget_ms > 0 && asked.budget_ms < 600000 ? asked.budget_ms : 5000;
    const struct request verify = {broker_verify,
                                   texts,
                                   tags,
                                   3,
                                   collected == PAM_SUCCESS ? NULL : &code,
                                   broker_now_ms() + budget_ms + answer_margin_ms};
    struct answer answer = {NULL, 0, message};
    if (exchange(&context, &verify, &answer, login) == 0) {
        take_verdict(pamh, message, asked.log_stderr, login);
    }
    release(answer.body, answer.length);
    free(message);
}
