#include "redis_connection.hpp"
#include "redis_reply.hpp"

#include <catch2/catch.hpp>

#include <string>

using pam_oauth2::shared_cache::format_command;
using pam_oauth2::shared_cache::RedisReply;
using pam_oauth2::shared_cache::RedisReplyLimits;
using pam_oauth2::shared_cache::RedisReplyReader;

namespace {

// Feeds `bytes` in one piece and returns the first reply; the test fails when there is none.
RedisReply one_reply(RedisReplyReader& reader, std::string_view bytes)
{
    REQUIRE(reader.feed(bytes).ok());
    auto reply = reader.next();
    REQUIRE(reply.ok());
    REQUIRE(reply.value().has_value());
    return *std::move(reply).value();
}

// The reason the reader gives up on `bytes` (fed, then read).
std::string failure(RedisReplyLimits limits, std::string_view bytes)
{
    RedisReplyReader reader(limits);
    const auto fed = reader.feed(bytes);
    if (!fed.ok()) {
        return fed.error();
    }
    const auto reply = reader.next();
    return reply.ok() ? std::string() : reply.error();
}

} // namespace

TEST_CASE("each RESP2 type becomes its RedisReply")
{
    RedisReplyReader reader;
    CHECK(one_reply(reader, "+OK\r\n").is_status("OK"));
    const auto error = one_reply(reader, "-MOVED 3999 127.0.0.1:6381\r\n");
    CHECK(error.is_error());
    CHECK(error.text == "MOVED 3999 127.0.0.1:6381");
    CHECK(one_reply(reader, ":-42\r\n").integer == -42);
    CHECK(one_reply(reader, "$-1\r\n").type == RedisReply::Type::Nil);
    const auto binary = one_reply(reader, std::string("$3\r\na\0b\r\n", 9));
    CHECK(binary.type == RedisReply::Type::String);
    CHECK(binary.text == std::string("a\0b", 3));
    const auto array = one_reply(reader, "*3\r\n$4\r\nhost\r\n:7\r\n*1\r\n$-1\r\n");
    REQUIRE(array.type == RedisReply::Type::Array);
    REQUIRE(array.elements.size() == 3);
    CHECK(array.elements[0].text == "host");
    CHECK(array.elements[1].integer == 7);
    REQUIRE(array.elements[2].elements.size() == 1);
    CHECK(array.elements[2].elements[0].type == RedisReply::Type::Nil);
    CHECK(one_reply(reader, "*-1\r\n").type == RedisReply::Type::Nil);
    CHECK(one_reply(reader, "*0\r\n").elements.empty());
}

TEST_CASE("a reply split over many reads comes out whole, once")
{
    RedisReplyReader reader;
    const std::string bytes = "*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n+NEXT\r\n";
    for (std::size_t i = 0; i + 7 < bytes.size(); ++i) {
        REQUIRE(reader.feed(bytes.substr(i, 1)).ok());
        const auto none = reader.next();
        REQUIRE(none.ok());
        if (none.value()) {
            CHECK(i == bytes.size() - 8); // the array ends 7 bytes before "+NEXT\r\n" ends
            CHECK(none.value()->elements[1].text == "world");
        }
    }
    REQUIRE(reader.feed(bytes.substr(bytes.size() - 7)).ok());
    auto last = reader.next();
    REQUIRE(last.ok());
    REQUIRE(last.value().has_value());
    CHECK(last.value()->is_status("NEXT"));
    CHECK_FALSE(reader.next().value().has_value());
}

TEST_CASE("a malformed reply is a failure, and the reader stays failed")
{
    RedisReplyReader reader;
    REQUIRE(reader.feed("!bogus\r\n").ok());
    const auto reply = reader.next();
    REQUIRE_FALSE(reply.ok());
    CHECK_THAT(reply.error(), Catch::Contains("malformed Redis reply"));
    CHECK_FALSE(reader.feed("+OK\r\n").ok());
    CHECK_FALSE(reader.next().ok());
}

TEST_CASE("replies over the byte, element or depth limits are refused before they are built")
{
    RedisReplyLimits limits;
    limits.max_bytes = 64;
    CHECK_THAT(failure(limits, "$100\r\n" + std::string(100, 'x') + "\r\n"), Catch::Contains("larger than 64 bytes"));
    CHECK(failure(limits, "$10\r\n" + std::string(10, 'x') + "\r\n").empty());

    // A server announcing two billion elements must not make us allocate them.
    CHECK_THAT(failure({}, "*2000000000\r\n"), Catch::Contains("more than 4096 elements"));
    CHECK_THAT(failure({}, "*3000\r\n*3000\r\n"), Catch::Contains("more than 4096 elements"));
    CHECK_THAT(failure({}, "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"), Catch::Contains("nested deeper than 4"));
    CHECK(failure({}, "*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n").empty());
}

TEST_CASE("the element budget is per reply, not per connection")
{
    RedisReplyLimits limits;
    limits.max_elements = 3;
    RedisReplyReader reader(limits);
    for (int i = 0; i < 5; ++i) {
        CHECK(one_reply(reader, "*3\r\n:1\r\n:2\r\n:3\r\n").elements.size() == 3);
    }
}

TEST_CASE("commands are encoded by hiredis, binary-safe")
{
    const auto encoded = format_command({"SET", std::string_view("k\0y", 3), "v", "EX", "30"});
    REQUIRE(encoded.ok());
    CHECK(encoded.value() == std::string("*5\r\n$3\r\nSET\r\n$3\r\nk\0y\r\n$1\r\nv\r\n$2\r\nEX\r\n$2\r\n30\r\n", 45));
    CHECK_FALSE(format_command({}).ok());
}
