#include "response_headers.hpp"

#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>

using pam_oauth2::ResponseHeaders;

namespace {

ResponseHeaders collect(std::initializer_list<std::string> lines)
{
    ResponseHeaders headers;
    for (const auto& line : lines) {
        headers.take_line(line);
    }
    return headers;
}

} // namespace

TEST_CASE("the header callback's lines give Cache-Control and Date, names without case")
{
    const auto headers = collect({"HTTP/1.1 200 OK\r\n", "cache-CONTROL: max-age=60 \r\n", "Content-Type: x\r\n",
                                  "DATE:\tSun, 06 Nov 1994 08:49:37 GMT\r\n", "\r\n"});
    CHECK(headers.cache_control() == "max-age=60");
    CHECK(headers.date() == "Sun, 06 Nov 1994 08:49:37 GMT");
    // Absent: empty. A name that only starts like one, or has a blank before the colon, is another header.
    const auto other =
        collect({"HTTP/2 200\r\n", "Cache-Control-Extension: a\r\n", "Date : b\r\n", "X-Date: c\r\n", "\r\n"});
    CHECK(other.cache_control().empty());
    CHECK(other.date().empty());
}

TEST_CASE("only the last header block counts: a 100 Continue's headers are dropped")
{
    const auto headers = collect({"HTTP/1.1 100 Continue\r\n", "Cache-Control: max-age=1\r\n", "Date: early\r\n",
                                  "\r\n", "HTTP/1.1 200 OK\r\n", "Cache-Control: max-age=99\r\n", "\r\n"});
    CHECK(headers.cache_control() == "max-age=99");
    CHECK(headers.date().empty());
}

TEST_CASE("trailers after the header block and lines before a status line are ignored")
{
    const auto headers = collect({"Cache-Control: before\r\n", "HTTP/1.1 200 OK\r\n", "Date: d\r\n", "\r\n",
                                  "Cache-Control: max-age=7\r\n", "Date: trailer\r\n", "\r\n"});
    CHECK(headers.cache_control().empty());
    CHECK(headers.date() == "d");
}

TEST_CASE("the first copy of a header wins, as curl_easy_header's index 0 did")
{
    const auto headers =
        collect({"HTTP/1.1 200 OK\r\n", "Cache-Control: max-age=5\r\n", "Cache-Control: max-age=500\r\n", "\r\n"});
    CHECK(headers.cache_control() == "max-age=5");
}

TEST_CASE("a folded line continues the header before it, and only that one")
{
    const auto headers = collect({"HTTP/1.1 200 OK\r\n", "Cache-Control: max-age=60,\r\n", "   must-revalidate\r\n",
                                  "X-Other: a\r\n", " folded-into-other\r\n", "Date: d\r\n", "\r\n"});
    CHECK(headers.cache_control() == "max-age=60, must-revalidate");
    CHECK(headers.date() == "d");
    // A folded line with no header before it in the block is dropped.
    CHECK(collect({"HTTP/1.1 200 OK\r\n", " stray\r\n", "\r\n"}).cache_control().empty());
}

TEST_CASE("a value longer than the bound is read as absent, however it grows")
{
    const std::string big(ResponseHeaders::max_value_bytes + 1, 'x');
    const std::string fits(ResponseHeaders::max_value_bytes, 'y');
    auto headers = collect({"HTTP/1.1 200 OK\r\n", "Cache-Control: " + big + "\r\n", "Cache-Control: max-age=1\r\n",
                            "Date: " + fits + "\r\n", "\r\n"});
    CHECK(headers.cache_control().empty()); // the later copy does not stand in for a dropped first
    CHECK(headers.date() == fits);
    headers = collect({"HTTP/1.1 200 OK\r\n", "Date: " + fits + "\r\n", " more\r\n", " again\r\n", "\r\n"});
    CHECK(headers.date().empty());
    // A new block starts afresh.
    headers.take_line("HTTP/1.1 200 OK\r\n");
    headers.take_line("Date: d\r\n");
    CHECK(headers.date() == "d");
}
