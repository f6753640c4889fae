#include "redis_connection.hpp"

#include <hiredis/hiredis.h>

#include <array>
#include <climits>

namespace pam_oauth2::shared_cache {

Fallible<std::string> format_command(const std::vector<std::string_view>& arguments)
{
    if (arguments.empty() || arguments.size() > INT_MAX) {
        return Failure{"a Redis command needs from 1 to INT_MAX arguments"};
    }
    std::vector<const char*> pointers;
    std::vector<size_t> lengths;
    pointers.reserve(arguments.size());
    lengths.reserve(arguments.size());
    for (const auto argument : arguments) {
        pointers.push_back(argument.data());
        lengths.push_back(argument.size());
    }
    char* encoded = nullptr;
    const int length =
        redisFormatCommandArgv(&encoded, static_cast<int>(arguments.size()), pointers.data(), lengths.data());
    if (length < 0 || encoded == nullptr) {
        return Failure{"cannot encode a Redis command (out of memory)"};
    }
    std::string bytes(encoded, static_cast<std::size_t>(length));
    // The command may carry a password (AUTH): wiped before it is freed.
    OPENSSL_cleanse(encoded, static_cast<std::size_t>(length));
    redisFreeCommand(encoded);
    return bytes;
}

RedisConnection::RedisConnection(std::unique_ptr<RedisStream> stream, const RedisConnectionSettings& settings)
    : stream_(std::move(stream)), reader_(settings.limits), peer_("redis " + display(settings.host))
{
}

Fallible<std::unique_ptr<RedisConnection>> RedisConnection::open(const RedisConnectionSettings& settings,
                                                                 Deadline deadline)
{
    auto stream = RedisStream::connect(settings.host, settings.tls, deadline);
    if (!stream.ok()) {
        return Failure{stream.error()};
    }
    std::unique_ptr<RedisConnection> connection(new RedisConnection(std::move(stream).value(), settings));
    auto logged_in = connection->log_in(settings, deadline);
    if (!logged_in.ok()) {
        return Failure{logged_in.error()};
    }
    return connection;
}

Fallible<bool> RedisConnection::log_in(const RedisConnectionSettings& settings, Deadline deadline)
{
    if (settings.password != nullptr) {
        std::vector<std::string_view> auth{"AUTH"};
        if (!settings.user.empty()) {
            auth.emplace_back(settings.user);
        }
        auth.push_back(settings.password->view());
        auto reply = command(auth, deadline);
        if (!reply.ok()) {
            return Failure{reply.error()};
        }
        if (!reply.value().is_status("OK")) {
            usable_ = false;
            // The server's words (WRONGPASS ..., NOAUTH ...) name no secret; ours neither.
            return Failure{peer_ + ": AUTH as '" + (settings.user.empty() ? std::string("default") : settings.user) +
                           "' refused: " + reply.value().text};
        }
    }
    if (settings.database != 0) {
        const std::string database = std::to_string(settings.database);
        auto reply = command({"SELECT", database}, deadline);
        if (!reply.ok()) {
            return Failure{reply.error()};
        }
        if (!reply.value().is_status("OK")) {
            usable_ = false;
            return Failure{peer_ + ": SELECT " + database + " refused: " + reply.value().text};
        }
    }
    return true;
}

Fallible<RedisReply> RedisConnection::command(const std::vector<std::string_view>& arguments, Deadline deadline)
{
    if (!usable_) {
        return Failure{peer_ + ": the connection failed before and is not used again"};
    }
    usable_ = false; // until the reply is read whole
    auto bytes = format_command(arguments);
    if (!bytes.ok()) {
        return Failure{bytes.error()};
    }
    const WipeOnExit wipe(bytes.value());
    auto sent = stream_->send_all(bytes.value(), deadline);
    if (!sent.ok()) {
        return Failure{sent.error()};
    }
    auto reply = read_reply(deadline);
    if (reply.ok()) {
        usable_ = true;
    }
    return reply;
}

Fallible<RedisReply> RedisConnection::read_reply(Deadline deadline)
{
    std::array<char, 16384> buffer{};
    for (;;) {
        auto ready = reader_.next();
        if (!ready.ok()) {
            return Failure{peer_ + ": " + ready.error()};
        }
        if (ready.value()) {
            return std::move(*ready.value());
        }
        auto got = stream_->receive_some(buffer.data(), buffer.size(), deadline);
        if (!got.ok()) {
            return Failure{got.error()};
        }
        auto fed = reader_.feed(std::string_view(buffer.data(), got.value()));
        if (!fed.ok()) {
            return Failure{peer_ + ": " + fed.error()};
        }
    }
}

} // namespace pam_oauth2::shared_cache
