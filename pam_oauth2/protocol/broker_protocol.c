#include "broker_protocol.h"

#include <string.h>

static const unsigned char magic[3] = {'P', 'O', '2'};

static uint32_t read_u32(const unsigned char* p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void write_u32(unsigned char* p, uint32_t value)
{
    p[0] = (unsigned char)(value >> 24);
    p[1] = (unsigned char)(value >> 16);
    p[2] = (unsigned char)(value >> 8);
    p[3] = (unsigned char)value;
}

int broker_read_header(const unsigned char header[broker_header_bytes], uint32_t* body_length)
{
    if (memcmp(header, magic, sizeof magic) != 0 || header[3] != broker_protocol_version) {
        return -1;
    }
    const uint32_t length = read_u32(header + 4);
    if (length == 0 || length > broker_max_body) {
        return -1;
    }
    *body_length = length;
    return 0;
}

int broker_decode(const unsigned char* body, size_t length, struct broker_message* out)
{
    if (length == 0 || length > broker_max_body) {
        return -1;
    }
    out->type = body[0];
    if (out->type < broker_prepare || out->type > broker_refused) {
        return -1;
    }
    out->field_count = 0;
    size_t at = 1;
    while (at < length) {
        if (length - at < 5 || out->field_count == broker_max_fields) {
            return -1;
        }
        const uint8_t tag = body[at];
        const uint32_t field_length = read_u32(body + at + 1);
        at += 5;
        if (tag == 0 || tag >= broker_tag_count || field_length > length - at) {
            return -1;
        }
        struct broker_field* field = &out->fields[out->field_count++];
        field->tag = tag;
        field->length = field_length;
        field->value = body + at;
        at += field_length;
    }
    return 0;
}

const struct broker_field* broker_find(const struct broker_message* message, uint8_t tag)
{
    for (size_t i = 0; i < message->field_count; ++i) {
        if (message->fields[i].tag == tag) {
            return &message->fields[i];
        }
    }
    return NULL;
}

int broker_find_int(const struct broker_message* message, uint8_t tag, int64_t* out)
{
    const struct broker_field* field = broker_find(message, tag);
    if (field == NULL || field->length != 8) {
        return -1;
    }
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) {
        value = (value << 8) | field->value[i];
    }
    /* Two's complement on every platform we build for; memcpy avoids an implementation-defined cast. */
    int64_t signed_value;
    memcpy(&signed_value, &value, sizeof signed_value);
    *out = signed_value;
    return 0;
}

void broker_writer_begin(struct broker_writer* writer, unsigned char* buffer, size_t capacity, uint8_t type)
{
    writer->buffer = buffer;
    writer->capacity = capacity;
    writer->length = 0;
    writer->overflow = capacity < broker_header_bytes + 1;
    if (!writer->overflow) {
        memcpy(buffer, magic, sizeof magic);
        buffer[3] = broker_protocol_version;
        buffer[broker_header_bytes] = type;
        writer->length = broker_header_bytes + 1;
    }
}

void broker_writer_add(struct broker_writer* writer, uint8_t tag, const void* value, size_t length)
{
    if (writer->overflow || length > broker_max_body || writer->capacity - writer->length < 5 ||
        writer->capacity - writer->length - 5 < length) {
        writer->overflow = 1;
        return;
    }
    unsigned char* at = writer->buffer + writer->length;
    at[0] = tag;
    write_u32(at + 1, (uint32_t)length);
    if (length > 0) {
        memcpy(at + 5, value, length);
    }
    writer->length += 5 + length;
}

void broker_writer_add_text(struct broker_writer* writer, uint8_t tag, const char* text)
{
    broker_writer_add(writer, tag, text, text != NULL ? strlen(text) : 0);
}

void broker_writer_add_int(struct broker_writer* writer, uint8_t tag, int64_t value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    unsigned char bytes[8];
    for (int i = 7; i >= 0; --i) {
        bytes[i] = (unsigned char)bits;
        bits >>= 8;
    }
    broker_writer_add(writer, tag, bytes, sizeof bytes);
}

size_t broker_writer_finish(struct broker_writer* writer)
{
    const size_t body = writer->length - broker_header_bytes;
    if (writer->overflow || body > broker_max_body) {
        return 0;
    }
    write_u32(writer->buffer + 4, (uint32_t)body);
    return writer->length;
}
