// The broker wire format as pam_oauth2d reads it from any local process: header, then body.
#include "broker_protocol.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static broker_message message;
    uint32_t length = 0;
    if (size >= broker_header_bytes && broker_read_header(data, &length) == 0 && length <= size - broker_header_bytes) {
        if (broker_decode(data + broker_header_bytes, length, &message) == 0) {
            int64_t value = 0;
            for (std::size_t i = 0; i < message.field_count; ++i) {
                // Every field lies inside the input.
                if (message.fields[i].value < data ||
                    message.fields[i].value + message.fields[i].length > data + size) {
                    __builtin_trap();
                }
            }
            broker_find_int(&message, broker_pam_code, &value);
        }
    }
    return 0;
}
