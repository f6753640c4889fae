#include "front_options.h"

#include "broker_protocol.h"

#include <stdio.h>
#include <string.h>

static const char* value_of(const char* arg, const char* key)
{
    const size_t length = strlen(key);
    return strncmp(arg, key, length) == 0 && arg[length] == '=' ? arg + length + 1 : NULL;
}

int front_parse_options(int argc, const char** argv, struct front_options* out, char* why, size_t why_size)
{
    out->socket_path = NULL;
    out->fallback = fallback_local;
    out->log_stderr = 0;
    for (int i = 0; i < argc; ++i) {
        const char* arg = argv[i];
        const char* value = NULL;
        if (arg == NULL) {
            continue;
        }
        if (strcmp(arg, "broker") == 0) {
            out->socket_path = BROKER_DEFAULT_SOCKET;
        } else if ((value = value_of(arg, "broker")) != NULL) {
            if (value[0] != '/') {
                snprintf(why, why_size, "option broker must be an absolute socket path, or given bare for %s",
                         BROKER_DEFAULT_SOCKET);
                return -1;
            }
            out->socket_path = value;
        } else if ((value = value_of(arg, "broker_fallback")) != NULL || strcmp(arg, "broker_fallback") == 0) {
            if (value != NULL && strcmp(value, "local") == 0) {
                out->fallback = fallback_local;
            } else if (value != NULL && strcmp(value, "deny") == 0) {
                out->fallback = fallback_deny;
            } else {
                snprintf(why, why_size, "option broker_fallback must be local or deny");
                return -1;
            }
        } else if (strcmp(arg, "log=stderr") == 0) {
            out->log_stderr = 1;
        }
    }
    return 0;
}
