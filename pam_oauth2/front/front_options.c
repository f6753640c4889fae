#include "front_options.h"

#include "broker_protocol.h"

#include <stdio.h>
#include <string.h>

/* One argument as key and value, brackets stripped as the table strips them (Linux-PAM already
 * removes them from [key=value with spaces]; a hand-made argv may still carry them). */
struct argument {
    const char* key;
    size_t key_length;
    const char* value; /* NULL for a bare key */
    size_t value_length;
};

static struct argument split_argument(const char* arg)
{
    size_t length = strlen(arg);
    if (length >= 2 && arg[0] == '[' && arg[length - 1] == ']') {
        ++arg;
        length -= 2;
    }
    const char* equals = memchr(arg, '=', length);
    struct argument split = {arg, length, NULL, 0};
    if (equals != NULL) {
        split.key_length = (size_t)(equals - arg);
        split.value = equals + 1;
        split.value_length = length - split.key_length - 1;
    }
    return split;
}

static int is_key(const struct argument* arg, const char* key)
{
    return arg->key_length == strlen(key) && memcmp(arg->key, key, arg->key_length) == 0;
}

static int value_is(const struct argument* arg, const char* wanted)
{
    return arg->value != NULL && arg->value_length == strlen(wanted) &&
           memcmp(arg->value, wanted, arg->value_length) == 0;
}

static int set_broker(const struct argument* arg, struct front_options* out)
{
    const char* path = arg->value != NULL ? arg->value : BROKER_DEFAULT_SOCKET;
    const size_t length = arg->value != NULL ? arg->value_length : strlen(BROKER_DEFAULT_SOCKET);
    if (length == 0 || path[0] != '/' || length >= sizeof out->socket_buffer) {
        return -1;
    }
    memcpy(out->socket_buffer, path, length);
    out->socket_buffer[length] = '\0';
    out->socket_path = out->socket_buffer;
    return 0;
}

/* 0 when `arg` is one of the front's options and was applied, or not one of them; -1 when refused. */
static int apply(const struct argument* arg, struct front_options* out, char* why, size_t why_size)
{
    if (is_key(arg, "broker")) {
        if (set_broker(arg, out) != 0) {
            snprintf(why, why_size, "option broker must be an absolute socket path, or given bare for %s",
                     BROKER_DEFAULT_SOCKET);
            return -1;
        }
    } else if (is_key(arg, "broker_fallback")) {
        if (value_is(arg, "local") || value_is(arg, "deny")) {
            out->fallback = value_is(arg, "deny") ? fallback_deny : fallback_local;
        } else {
            snprintf(why, why_size, "option broker_fallback must be local or deny");
            return -1;
        }
    } else if (is_key(arg, "log")) {
        if (value_is(arg, "stderr") || value_is(arg, "syslog")) {
            out->log_stderr = value_is(arg, "stderr");
        } else {
            snprintf(why, why_size, "option log must be syslog or stderr");
            return -1;
        }
    }
    return 0;
}

int front_parse_options(int argc, const char** argv, struct front_options* out, char* why, size_t why_size)
{
    out->socket_path = NULL;
    out->fallback = fallback_local;
    out->log_stderr = 0;
    out->socket_buffer[0] = '\0';
    for (int i = 0; i < argc; ++i) {
        if (argv[i] == NULL) {
            continue;
        }
        const struct argument arg = split_argument(argv[i]);
        if (apply(&arg, out, why, why_size) != 0) {
            return -1;
        }
    }
    return 0;
}
