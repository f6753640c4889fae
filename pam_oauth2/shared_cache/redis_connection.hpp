#pragma once

#include "fallible.hpp"
#include "redis_endpoint.hpp"
#include "redis_reply.hpp"
#include "redis_stream.hpp"
#include "secure_string.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pam_oauth2::shared_cache {

/// What one connection needs: the address, TLS or not, who to log in as, and the database.
struct RedisConnectionSettings {
    RedisHost host;
    std::shared_ptr<const TlsClientContext> tls; ///< none: plain TCP
    std::string user;                            ///< ACL user; empty with a password means the default user
    const SecureString* password = nullptr;      ///< none: no AUTH; the caller owns it (read from a file)
    int database = 0;
    RedisReplyLimits limits;
};

/// One connection to one Redis server, ready for commands: connected, TLS done, AUTH and SELECT
/// sent once. Every call returns by its deadline; a failure leaves the connection unusable (the
/// caller drops it: a reply may still be on its way). Not shared between threads.
class RedisConnection {
public:
    /// Connects and logs in by `deadline`. A refused AUTH says so (and never the password).
    static Fallible<std::unique_ptr<RedisConnection>> open(const RedisConnectionSettings& settings, Deadline deadline);

    /// Sends one command (encoded by hiredis's redisFormatCommandArgv) and reads its reply. A Redis
    /// error reply (-ERR, -MOVED, -READONLY, ...) is a reply of Type::Error, not a failure: the
    /// caller decides; failures are the connection's (I/O, deadline, a reply too big or malformed).
    Fallible<RedisReply> command(const std::vector<std::string_view>& arguments, Deadline deadline);

    /// False after any failure: the connection must not be used again.
    [[nodiscard]] bool usable() const { return usable_; }

private:
    RedisConnection(std::unique_ptr<RedisStream> stream, const RedisConnectionSettings& settings);
    Fallible<bool> log_in(const RedisConnectionSettings& settings, Deadline deadline);
    Fallible<RedisReply> read_reply(Deadline deadline);

    std::unique_ptr<RedisStream> stream_;
    RedisReplyReader reader_;
    std::string peer_;
    bool usable_ = true;
};

/// The bytes of one command in RESP, or a failure when hiredis cannot encode it.
Fallible<std::string> format_command(const std::vector<std::string_view>& arguments);

} // namespace pam_oauth2::shared_cache
