#include "redis_cluster.hpp"

#include <catch2/catch.hpp>

using pam_oauth2::shared_cache::key_slot;
using pam_oauth2::shared_cache::parse_redirect;
using pam_oauth2::shared_cache::RedisReply;

namespace {

RedisReply error(const char* text)
{
    RedisReply reply;
    reply.type = RedisReply::Type::Error;
    reply.text = text;
    return reply;
}

} // namespace

TEST_CASE("a key's hash slot is CRC16/XMODEM of the key or of its hash tag")
{
    CHECK(key_slot("123456789") == 0x31c3); // the CRC16/XMODEM check value
    CHECK(key_slot("foo") == 12182);
    CHECK(key_slot("") == 0);
    CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
    CHECK(key_slot("{user1000}.followers") == key_slot("{user1000}.following"));
    CHECK(key_slot("foo{}{bar}") == key_slot("foo{}{bar}")); // an empty tag: the whole key
    CHECK(key_slot("foo{}{bar}") != key_slot("bar"));
    CHECK(key_slot("foo{{bar}}zap") == key_slot("{bar"));
    CHECK(key_slot("foo{bar}{zap}") == key_slot("bar"));
}

TEST_CASE("MOVED and ASK replies are read; anything else is not a redirect")
{
    const auto moved = parse_redirect(error("MOVED 3999 127.0.0.1:6381"));
    REQUIRE(moved);
    CHECK_FALSE(moved->ask);
    CHECK(moved->slot == 3999);
    CHECK(moved->to.host == "127.0.0.1");
    CHECK(moved->to.port == 6381);
    const auto ask = parse_redirect(error("ASK 16383 [::1]:7000"));
    REQUIRE(ask);
    CHECK(ask->ask);
    CHECK(ask->to.host == "::1");
    for (const char* text : {"MOVED", "MOVED 3999", "MOVED x 127.0.0.1:1", "MOVED 16384 127.0.0.1:1",
                             "MOVED 1 127.0.0.1:0", "MOVED 1 127.0.0.1:1/2", "MOVED 1 u:p@h:1", "ASK 1 ",
                             "ERR MOVED 1 h:1", "READONLY You can't write against a read only replica."}) {
        CAPTURE(text);
        CHECK_FALSE(parse_redirect(error(text)));
    }
    RedisReply status;
    status.type = RedisReply::Type::Status;
    status.text = "MOVED 1 h:1";
    CHECK_FALSE(parse_redirect(status));
}
