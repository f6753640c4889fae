// Frame I/O of the broker protocol (pam_oauth2/protocol/broker_io.c, compiled as C) over a socket
// pair: a frame sent arrives whole, and every way a peer can fail ends in -1 with errno, never a hang.
#include "broker_io.h"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Two connected stream sockets, closed at the end of the test (either may be closed earlier).
struct SocketPair {
    int ends[2] = {-1, -1};
    SocketPair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0); }
    ~SocketPair()
    {
        close_end(0);
        close_end(1);
    }
    SocketPair(const SocketPair&) = delete;
    SocketPair& operator=(const SocketPair&) = delete;
    void close_end(int which)
    {
        if (ends[which] >= 0) {
            ::close(ends[which]);
            ends[which] = -1;
        }
    }
};

// What broker_receive answered; owns the body it allocated, which the decoded fields point into.
struct Received {
    int result = 0;
    int error = 0;
    unsigned char* body = nullptr;
    size_t body_length = 0;
    Received() = default;
    ~Received() { std::free(body); }
    Received(const Received&) = delete;
    Received& operator=(const Received&) = delete;
};

void receive(Received& received, int fd, int64_t deadline_ms, broker_message& message)
{
    received.result = broker_receive(fd, deadline_ms, &received.body, &received.body_length, &message);
    received.error = errno;
}

std::vector<unsigned char> verdict_frame()
{
    std::vector<unsigned char> frame(256);
    broker_writer writer{};
    broker_writer_begin(&writer, frame.data(), frame.size(), broker_verdict);
    broker_writer_add_int(&writer, broker_pam_code, 7);
    broker_writer_add_text(&writer, broker_log_line, "result=refused reason=\"expired\"");
    frame.resize(broker_writer_finish(&writer));
    REQUIRE(!frame.empty());
    return frame;
}

void send_raw(int fd, const std::vector<unsigned char>& bytes)
{
    REQUIRE(broker_send(fd, bytes.data(), bytes.size(), broker_now_ms() + 1000) == 0);
}

} // namespace

TEST_CASE("a broker frame sent on a socket is received whole and decoded")
{
    SocketPair pair;
    const auto frame = verdict_frame();
    send_raw(pair.ends[0], frame);
    static broker_message message{};
    Received received;
    receive(received, pair.ends[1], broker_now_ms() + 1000, message);
    REQUIRE(received.result == 0);
    CHECK(received.body_length == frame.size() - broker_header_bytes);
    CHECK(message.type == broker_verdict);
    int64_t code = 0;
    REQUIRE(broker_find_int(&message, broker_pam_code, &code) == 0);
    CHECK(code == 7);
}

TEST_CASE("receiving from a silent peer ends at the deadline")
{
    SocketPair pair;
    static broker_message message{};
    const int64_t started = broker_now_ms();
    Received received;
    receive(received, pair.ends[1], started + 50, message);
    CHECK(received.result == -1);
    CHECK(received.error == ETIMEDOUT);
    CHECK(broker_now_ms() - started < 5000);
    Received late;
    receive(late, pair.ends[1], started - 1, message); // already past
    CHECK(late.error == ETIMEDOUT);
}

TEST_CASE("a peer that hangs up before or inside a frame is a reset connection")
{
    static broker_message message{};
    SECTION("before the header")
    {
        SocketPair pair;
        pair.close_end(0);
        Received received;
        receive(received, pair.ends[1], broker_now_ms() + 1000, message);
        CHECK(received.result == -1);
        CHECK(received.error == ECONNRESET);
    }
    SECTION("inside the body")
    {
        SocketPair pair;
        auto frame = verdict_frame();
        frame.resize(frame.size() - 3);
        send_raw(pair.ends[0], frame);
        pair.close_end(0);
        Received received;
        receive(received, pair.ends[1], broker_now_ms() + 1000, message);
        CHECK(received.result == -1);
        CHECK(received.error == ECONNRESET);
    }
}

TEST_CASE("a frame with a bad header or an undecodable body is a protocol error")
{
    static broker_message message{};
    SECTION("wrong magic")
    {
        SocketPair pair;
        auto frame = verdict_frame();
        frame[0] = 'X';
        send_raw(pair.ends[0], frame);
        Received received;
        receive(received, pair.ends[1], broker_now_ms() + 1000, message);
        CHECK(received.result == -1);
        CHECK(received.error == EPROTO);
        CHECK(received.body_length == 0);
    }
    SECTION("a body over the cap is refused before it is read")
    {
        SocketPair pair;
        auto frame = verdict_frame();
        const uint32_t huge = broker_max_body + 1;
        for (int i = 0; i < 4; ++i) {
            frame[4 + static_cast<size_t>(i)] = static_cast<unsigned char>(huge >> (24 - 8 * i));
        }
        send_raw(pair.ends[0], frame);
        Received received;
        receive(received, pair.ends[1], broker_now_ms() + 1000, message);
        CHECK(received.error == EPROTO);
    }
    SECTION("an unknown message type")
    {
        SocketPair pair;
        auto frame = verdict_frame();
        frame[broker_header_bytes] = 99;
        send_raw(pair.ends[0], frame);
        Received received;
        receive(received, pair.ends[1], broker_now_ms() + 1000, message);
        CHECK(received.result == -1);
        CHECK(received.error == EPROTO);
    }
}

TEST_CASE("sending to a peer that hung up fails without SIGPIPE")
{
    SocketPair pair;
    pair.close_end(1);
    const auto frame = verdict_frame();
    CHECK(broker_send(pair.ends[0], frame.data(), frame.size(), broker_now_ms() + 1000) == -1);
    CHECK(errno == EPIPE);
}

TEST_CASE("the broker clock does not run backwards")
{
    const int64_t first = broker_now_ms();
    const int64_t second = broker_now_ms();
    CHECK(first > 0);
    CHECK(second >= first);
}
