#pragma once

#include "fallible.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;

namespace pam_oauth2::shared_cache {

/// One RESP2 reply, owned: what hiredis's reader parsed, copied into C++ values.
struct RedisReply {
    enum class Type { String, Status, Integer, Nil, Error, Array };
    Type type = Type::Nil;
    std::string text;                 ///< String, Status, Error
    long long integer = 0;            ///< Integer
    std::vector<RedisReply> elements; ///< Array

    [[nodiscard]] bool is_error() const { return type == Type::Error; }
    [[nodiscard]] bool is_status(std::string_view expected) const { return type == Type::Status && text == expected; }
};

/// What a reply may cost before it is refused: a server (or whoever sits in its place) must not be
/// able to make the daemon allocate without bound.
struct RedisReplyLimits {
    std::size_t max_bytes = std::size_t{1} << 20; ///< bytes buffered for one reply
    int max_depth = 4;                            ///< arrays inside arrays (hiredis stops at 7)
    std::size_t max_elements = 4096;              ///< elements of all arrays of one reply
};

/// Splits the bytes of a connection into replies with hiredis's redisReader (the protocol parser,
/// transport-free), building RedisReply values through its object callbacks so the limits are
/// checked before anything is allocated. Not copyable; one per connection.
class RedisReplyReader {
public:
    explicit RedisReplyReader(RedisReplyLimits limits = {});
    ~RedisReplyReader();
    RedisReplyReader(const RedisReplyReader&) = delete;
    RedisReplyReader& operator=(const RedisReplyReader&) = delete;

    /// Hands received bytes to the parser; a failure (too many bytes, no memory) is final.
    Fallible<bool> feed(std::string_view bytes);
    /// The next complete reply, nullopt when more bytes are needed, or a failure (protocol error,
    /// a limit passed); after a failure the connection must be dropped.
    Fallible<std::optional<RedisReply>> next();

    /// Used by the parser callbacks (reply_reader.cpp); not part of the interface.
    struct Budget {
        RedisReplyLimits limits;
        std::size_t elements = 0;
        bool exceeded = false;
    };

private:
    Budget budget_;
    std::size_t pending_ = 0; ///< bytes fed since the last complete reply
    redisReader* reader_ = nullptr;
    std::string failed_;
};

} // namespace pam_oauth2::shared_cache
