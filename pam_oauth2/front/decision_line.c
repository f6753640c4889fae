#include "decision_line.h"

#include <stdio.h>
#include <string.h>

/* A bounded writer: counts every byte, stores those that fit. */
struct line_buffer {
    char* out;
    size_t size;
    size_t length;
};

static void put_char(struct line_buffer* buffer, char c)
{
    if (buffer->length + 1 < buffer->size) {
        buffer->out[buffer->length] = c;
    }
    ++buffer->length;
}

static void put_text(struct line_buffer* buffer, const char* text)
{
    for (; *text != '\0'; ++text) {
        put_char(buffer, *text);
    }
}

static int is_plain(const char* value)
{
    if (*value == '\0') {
        return 0;
    }
    for (; *value != '\0'; ++value) {
        const unsigned char byte = (unsigned char)*value;
        if (byte <= 0x20 || byte >= 0x7f || byte == '"' || byte == '\\' || byte == '=') {
            return 0;
        }
    }
    return 1;
}

/* The inside of log_value's quoted form: quotes and backslashes escaped with a backslash, control
 * bytes and bytes above ASCII as \xHH (U+0085 ends a line for some log pipelines). */
static void put_escaped(struct line_buffer* buffer, const char* value)
{
    for (; *value != '\0'; ++value) {
        const unsigned char byte = (unsigned char)*value;
        if (byte == '"' || byte == '\\') {
            put_char(buffer, '\\');
            put_char(buffer, (char)byte);
        } else if (byte < 0x20 || byte >= 0x7f) {
            char escaped[5];
            (void)snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            put_text(buffer, escaped);
        } else {
            put_char(buffer, (char)byte);
        }
    }
}

/* log_value: bare when plain, otherwise double-quoted and escaped; `missing` when unknown. */
static void put_value(struct line_buffer* buffer, const char* value, const char* missing)
{
    if (value == NULL || *value == '\0') {
        put_text(buffer, missing);
    } else if (is_plain(value)) {
        put_text(buffer, value);
    } else {
        put_char(buffer, '"');
        put_escaped(buffer, value);
        put_char(buffer, '"');
    }
}

static const char* or_default(const char* value, const char* missing)
{
    return value == NULL || *value == '\0' ? missing : value;
}

size_t decision_line(char* out, size_t size, const struct decision_fields* fields)
{
    struct line_buffer buffer = {out, size, 0};
    char ms[32];
    put_text(&buffer, "result=");
    put_text(&buffer, or_default(fields->result, "error"));
    put_text(&buffer, " reason=\"");
    put_escaped(&buffer, or_default(fields->reason, "-"));
    put_text(&buffer, "\" user=");
    put_value(&buffer, fields->user, "-");
    put_text(&buffer, " method=");
    put_text(&buffer, or_default(fields->method, "none"));
    put_text(&buffer, " token=");
    put_text(&buffer, or_default(fields->token, "-"));
    put_text(&buffer, " rhost=");
    put_value(&buffer, fields->rhost, "-");
    (void)snprintf(ms, sizeof ms, " ms=%ld", fields->elapsed_ms);
    put_text(&buffer, ms);
    if (size > 0) {
        out[buffer.length < size ? buffer.length : size - 1] = '\0';
    }
    return buffer.length;
}
