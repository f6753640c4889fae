#include "broker_protocol.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

namespace {

std::vector<unsigned char> frame_of(uint8_t type, const std::vector<std::pair<uint8_t, std::string>>& fields)
{
    std::vector<unsigned char> buffer(4096);
    broker_writer writer{};
    broker_writer_begin(&writer, buffer.data(), buffer.size(), type);
    for (const auto& [tag, value] : fields) {
        broker_writer_add(&writer, tag, value.data(), value.size());
    }
    buffer.resize(broker_writer_finish(&writer));
    return buffer;
}

int decode(const std::vector<unsigned char>& frame, broker_message& message)
{
    uint32_t length = 0;
    if (frame.size() < broker_header_bytes || broker_read_header(frame.data(), &length) != 0 ||
        length != frame.size() - broker_header_bytes) {
        return -1;
    }
    return broker_decode(frame.data() + broker_header_bytes, length, &message);
}

} // namespace

TEST_CASE("broker frames round-trip: texts, repeated arguments and integers")
{
    std::vector<unsigned char> buffer(256);
    broker_writer writer{};
    broker_writer_begin(&writer, buffer.data(), buffer.size(), broker_verdict);
    broker_writer_add_text(&writer, broker_arg, "verify=jwt");
    broker_writer_add_text(&writer, broker_arg, "audience=postgres");
    broker_writer_add_int(&writer, broker_valid_until, -42);
    broker_writer_add_int(&writer, broker_pam_code, 9);
    buffer.resize(broker_writer_finish(&writer));
    REQUIRE(!buffer.empty());
    CHECK(std::memcmp(buffer.data(), "PO2\x02", 4) == 0);

    static broker_message message{};
    REQUIRE(decode(buffer, message) == 0);
    CHECK(message.type == broker_verdict);
    REQUIRE(message.field_count == 4);
    CHECK(std::string(reinterpret_cast<const char*>(message.fields[1].value), message.fields[1].length) ==
          "audience=postgres");
    int64_t value = 0;
    REQUIRE(broker_find_int(&message, broker_valid_until, &value) == 0);
    CHECK(value == -42);
    REQUIRE(broker_find_int(&message, broker_pam_code, &value) == 0);
    CHECK(value == 9);
    CHECK(broker_find_int(&message, broker_token, &value) == -1);
    CHECK(broker_find(&message, broker_token) == nullptr);
}

TEST_CASE("broker frames that are malformed in any way are refused")
{
    static broker_message message{};
    const auto good = frame_of(broker_prepare, {{broker_arg, "x"}});
    REQUIRE(decode(good, message) == 0);

    auto wrong_magic = good;
    wrong_magic[0] = 'X';
    CHECK(decode(wrong_magic, message) == -1);
    auto wrong_version = good;
    wrong_version[3] = 1; // version 1 held its connection across the conversation
    CHECK(decode(wrong_version, message) == -1);
    auto unknown_type = good;
    unknown_type[broker_header_bytes] = 9;
    CHECK(decode(unknown_type, message) == -1);
    auto unknown_tag = good;
    unknown_tag[broker_header_bytes + 1] = broker_tag_count;
    CHECK(decode(unknown_tag, message) == -1);
    auto overlong_field = good;
    overlong_field[broker_header_bytes + 5] = 2; // field says 2 bytes, 1 follows
    CHECK(broker_decode(overlong_field.data() + broker_header_bytes, overlong_field.size() - broker_header_bytes,
                        &message) == -1);
    auto trailing = good;
    trailing.push_back(1);
    CHECK(broker_decode(trailing.data() + broker_header_bytes, trailing.size() - broker_header_bytes, &message) == -1);

    unsigned char too_big[broker_header_bytes] = {'P', 'O', '2', 1, 0xff, 0xff, 0xff, 0xff};
    uint32_t length = 0;
    CHECK(broker_read_header(too_big, &length) == -1);
    unsigned char empty[broker_header_bytes] = {'P', 'O', '2', 1, 0, 0, 0, 0};
    CHECK(broker_read_header(empty, &length) == -1);
}

TEST_CASE("a broker writer that runs out of room produces no frame")
{
    std::vector<unsigned char> buffer(32);
    broker_writer writer{};
    broker_writer_begin(&writer, buffer.data(), buffer.size(), broker_verify);
    broker_writer_add_text(&writer, broker_token, "a token much longer than the thirty-two bytes of this buffer");
    CHECK(broker_writer_finish(&writer) == 0);
    broker_writer_begin(&writer, buffer.data(), 4, broker_verify);
    CHECK(broker_writer_finish(&writer) == 0);
}
