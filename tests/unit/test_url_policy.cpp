#include "url_policy.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;

TEST_CASE("https is required, http only to loopback with allow_http")
{
    CHECK_FALSE(check_endpoint_url("https://idp.example.com/userinfo", false));
    CHECK_FALSE(check_endpoint_url("https://[2001:db8::1]:8443/x", false));
    CHECK(*check_endpoint_url("ftp://idp.example.com/", false) == "must start with https://");
    CHECK(*check_endpoint_url("file:///etc/passwd", true) == "must start with https://");
    CHECK(check_endpoint_url("http://127.0.0.1/u", false)->find("allow_http") != std::string::npos);
    CHECK_FALSE(check_endpoint_url("http://127.0.0.1:8080/u", true));
    CHECK_FALSE(check_endpoint_url("http://127.8.9.10/u", true));
    CHECK_FALSE(check_endpoint_url("http://[::1]:8080/u", true));
    CHECK_FALSE(check_endpoint_url("http://localhost/u", true));
    CHECK(check_endpoint_url("http://idp.example.com/u", true)->find("not loopback") != std::string::npos);
    CHECK(check_endpoint_url("http://128.0.0.1/u", true)->find("not loopback") != std::string::npos);
    CHECK(check_endpoint_url("http://[::2]/u", true)->find("not loopback") != std::string::npos);
}

TEST_CASE("URLs that hide their host or carry blanks are refused")
{
    CHECK(check_endpoint_url("https://127.0.0.1@evil.example/u", false)->find("@") != std::string::npos);
    CHECK(check_endpoint_url("https://user:pw@idp.example.com/u", false)->find("@") != std::string::npos);
    CHECK(*check_endpoint_url("https:///path", false) == "has no host");
    CHECK(*check_endpoint_url("https://:443/path", false) == "has no host");
    CHECK(*check_endpoint_url("https://[::1/u", false) == "has an unterminated [IPv6] host");
    CHECK(*check_endpoint_url("https://idp.example.com/a b", false) == "contains a space or control character");
    CHECK(*check_endpoint_url("https://idp.example.com/\x7f", false) == "contains a space or control character");
}

TEST_CASE("loopback hosts")
{
    CHECK(is_loopback_host("localhost"));
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("127.255.255.254"));
    CHECK(is_loopback_host("::1"));
    CHECK_FALSE(is_loopback_host("localhost.example.com"));
    CHECK_FALSE(is_loopback_host("10.0.0.1"));
    CHECK_FALSE(is_loopback_host("::ffff:127.0.0.1"));
    CHECK_FALSE(is_loopback_host(""));
}
