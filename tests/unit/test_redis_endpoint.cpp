#include "redis_endpoint.hpp"

#include <catch2/catch.hpp>

#include <string>

using pam_oauth2::shared_cache::parse_redis_endpoint;
using pam_oauth2::shared_cache::RedisTopology;

namespace {

// The reason a URL is refused (empty when it is accepted, which these tests then fail on).
std::string refusal(const std::string& text)
{
    const auto parsed = parse_redis_endpoint(text);
    return parsed.ok() ? std::string() : parsed.error();
}

} // namespace

TEST_CASE("redis:// names one server, its user and its database")
{
    const auto parsed = parse_redis_endpoint("redis://cache@redis.example.net:6380/3");
    REQUIRE(parsed.ok());
    const auto& endpoint = parsed.value();
    CHECK(endpoint.topology == RedisTopology::Standalone);
    CHECK_FALSE(endpoint.tls);
    CHECK(endpoint.user == "cache");
    REQUIRE(endpoint.hosts.size() == 1);
    CHECK(endpoint.hosts[0].host == "redis.example.net");
    CHECK(endpoint.hosts[0].port == 6380);
    CHECK(endpoint.database == 3);
}

TEST_CASE("the port and the database have defaults; rediss:// is TLS")
{
    const auto parsed = parse_redis_endpoint("rediss://10.0.0.5");
    REQUIRE(parsed.ok());
    CHECK(parsed.value().tls);
    CHECK(parsed.value().hosts[0].port == 6379);
    CHECK(parsed.value().database == 0);
    CHECK(parse_redis_endpoint("redis://h/").ok());
}

TEST_CASE("IPv6 literals go in brackets, with or without a port")
{
    const auto parsed = parse_redis_endpoint("redis://[::1]:7000/1");
    REQUIRE(parsed.ok());
    CHECK(parsed.value().hosts[0].host == "::1");
    CHECK(parsed.value().hosts[0].port == 7000);
    CHECK(display(parsed.value().hosts[0]) == "[::1]:7000");
    const auto bare = parse_redis_endpoint("redis://[fe80::1]");
    REQUIRE(bare.ok());
    CHECK(bare.value().hosts[0].port == 6379);
    CHECK_THAT(refusal("redis://::1:6379"), Catch::Contains("needs brackets"));
    CHECK_THAT(refusal("redis://[::1:6379"), Catch::Contains("without ']'"));
    CHECK_THAT(refusal("redis://[nothost]:6379"), Catch::Contains("not an IPv6 address"));
    CHECK_THAT(refusal("redis://[::1]x"), Catch::Contains("after ']'"));
}

TEST_CASE("redis+sentinel:// lists Sentinels, then the master name and database")
{
    const auto parsed = parse_redis_endpoint("redis+sentinel://s1:26379,s2,[::1]:26380/mymaster/2");
    REQUIRE(parsed.ok());
    const auto& endpoint = parsed.value();
    CHECK(endpoint.topology == RedisTopology::Sentinel);
    REQUIRE(endpoint.hosts.size() == 3);
    CHECK(endpoint.hosts[1].port == 26379);
    CHECK(endpoint.hosts[2].host == "::1");
    CHECK(endpoint.master_name == "mymaster");
    CHECK(endpoint.database == 2);
    CHECK(parse_redis_endpoint("rediss+sentinel://s1/mymaster").value().tls);
    CHECK_THAT(refusal("redis+sentinel://s1,s2"), Catch::Contains("needs the master name"));
    CHECK_THAT(refusal("redis+sentinel://s1,s2/"), Catch::Contains("needs the master name"));
    CHECK_THAT(refusal("redis+sentinel://s1/my master"), Catch::Contains("master name"));
}

TEST_CASE("redis+cluster:// lists seed nodes; a cluster has only database 0")
{
    const auto parsed = parse_redis_endpoint("rediss+cluster://n1:7000,n2:7001,n3:7002");
    REQUIRE(parsed.ok());
    CHECK(parsed.value().topology == RedisTopology::Cluster);
    CHECK(parsed.value().tls);
    CHECK(parsed.value().hosts.size() == 3);
    CHECK(parse_redis_endpoint("redis+cluster://n1:7000/0").ok());
    CHECK_THAT(refusal("redis+cluster://n1:7000/1"), Catch::Contains("only database 0"));
}

TEST_CASE("a password in the URL is refused and never echoed")
{
    for (const char* text : {"redis://user:s3cretpw@h:6379/0", "redis://:s3cretpw@h", "rediss://u:s3cret/pw@h/1",
                             "redis://u:s3cret?pw@h", "redis://u:s3cret@pw@h"}) {
        const auto reason = refusal(text);
        CAPTURE(text);
        CHECK_THAT(reason, Catch::Contains("password in the URL is refused"));
        CHECK_THAT(reason, !Catch::Contains("s3cret"));
    }
    CHECK_THAT(refusal("http://u:s3cretpw@h"), !Catch::Contains("s3cret"));
}

TEST_CASE("every malformed part is refused with its reason")
{
    CHECK_THAT(refusal("h:6379"), Catch::Contains("scheme is missing"));
    CHECK_THAT(refusal("redis6://h"), Catch::Contains("'redis6' is unknown"));
    CHECK_THAT(refusal("redis://"), Catch::Contains("a host is empty"));
    CHECK_THAT(refusal("redis://h1,,h2"), Catch::Contains("a host is empty"));
    CHECK_THAT(refusal("redis://:6379"), Catch::Contains("a host is empty"));
    CHECK_THAT(refusal("redis://h_x"), Catch::Contains("not a host name"));
    CHECK_THAT(refusal("redis://-h"), Catch::Contains("not a host name"));
    CHECK_THAT(refusal("redis://h:"), Catch::Contains("port ''"));
    CHECK_THAT(refusal("redis://h:0"), Catch::Contains("from 1 to 65535"));
    CHECK_THAT(refusal("redis://h:65536"), Catch::Contains("from 1 to 65535"));
    CHECK_THAT(refusal("redis://h:123456"), Catch::Contains("from 1 to 65535"));
    CHECK_THAT(refusal("redis://h:+1"), Catch::Contains("from 1 to 65535"));
    CHECK_THAT(refusal("redis://h/16"), Catch::Contains("from 0 to 15"));
    CHECK_THAT(refusal("redis://h/-1"), Catch::Contains("from 0 to 15"));
    CHECK_THAT(refusal("redis://h/1/2"), Catch::Contains("from 0 to 15"));
    CHECK_THAT(refusal("redis://h/x"), Catch::Contains("from 0 to 15"));
    CHECK_THAT(refusal("redis://h?timeout=1"), Catch::Contains("query or fragment"));
    CHECK_THAT(refusal("redis://h#x"), Catch::Contains("query or fragment"));
    CHECK_THAT(refusal("redis://h1,h2"), Catch::Contains("one address only"));
    CHECK_THAT(refusal("redis://@h"), Catch::Contains("the user before '@'"));
    CHECK_THAT(refusal("redis://us er@h"), Catch::Contains("the user before '@'"));
    std::string many = "redis+cluster://h0";
    for (int i = 1; i <= 16; ++i) {
        many += ",h" + std::to_string(i);
    }
    CHECK_THAT(refusal(many), Catch::Contains("more than 16 addresses"));
}
