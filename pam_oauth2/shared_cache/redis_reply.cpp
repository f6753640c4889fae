#include "redis_reply.hpp"

#include <hiredis/read.h>

#include <new>

namespace pam_oauth2::shared_cache {
namespace {

using Budget = RedisReplyReader::Budget;

// The callbacks below run inside hiredis (C): they never throw, and return nullptr (hiredis reads
// it as "out of memory" and stops) when a limit is passed or an allocation fails.

int depth_of(const redisReadTask* task)
{
    int depth = 0;
    for (const redisReadTask* up = task->parent; up != nullptr; up = up->parent) {
        ++depth;
    }
    return depth;
}

// The slot a value goes into: a new root, or its place in the parent array, sized when it was made.
RedisReply* place(const redisReadTask* task) noexcept
{
    if (task->parent == nullptr) {
        return new (std::nothrow) RedisReply;
    }
    auto* parent = static_cast<RedisReply*>(task->parent->obj);
    const auto index = static_cast<std::size_t>(task->idx);
    if (parent == nullptr || task->idx < 0 || index >= parent->elements.size()) {
        return nullptr;
    }
    return &parent->elements[index];
}

// A value that could not be completed: a root is ours to free (hiredis never saw it), a slot its
// parent's.
void* drop(const redisReadTask* task, RedisReply* reply) noexcept
{
    if (task->parent == nullptr) {
        delete reply;
    }
    return nullptr;
}

Budget* budget_of(const redisReadTask* task)
{
    return static_cast<Budget*>(task->privdata);
}

void* create_string(const redisReadTask* task, char* text, size_t length) noexcept
{
    RedisReply* reply = place(task);
    if (reply == nullptr) {
        return nullptr;
    }
    reply->type = task->type == REDIS_REPLY_ERROR    ? RedisReply::Type::Error
                  : task->type == REDIS_REPLY_STATUS ? RedisReply::Type::Status
                                                     : RedisReply::Type::String;
    try {
        reply->text.assign(text, length);
    } catch (const std::bad_alloc&) {
        return drop(task, reply);
    }
    return reply;
}

void* create_array(const redisReadTask* task, int count) noexcept
{
    Budget* budget = budget_of(task);
    const auto wanted = static_cast<std::size_t>(count < 0 ? 0 : count);
    if (budget == nullptr || depth_of(task) >= budget->limits.max_depth ||
        wanted > budget->limits.max_elements - budget->elements) {
        if (budget != nullptr) {
            budget->exceeded = true;
        }
        return nullptr;
    }
    RedisReply* reply = place(task);
    if (reply == nullptr) {
        return nullptr;
    }
    reply->type = RedisReply::Type::Array;
    try {
        reply->elements.resize(wanted);
    } catch (const std::bad_alloc&) {
        return drop(task, reply);
    }
    budget->elements += wanted;
    return reply;
}

void* create_integer(const redisReadTask* task, long long value) noexcept
{
    RedisReply* reply = place(task);
    if (reply != nullptr) {
        reply->type = RedisReply::Type::Integer;
        reply->integer = value;
    }
    return reply;
}

void* create_nil(const redisReadTask* task) noexcept
{
    RedisReply* reply = place(task);
    if (reply != nullptr) {
        reply->type = RedisReply::Type::Nil;
    }
    return reply;
}

// hiredis frees only the root it holds (redisReaderFree, or a reply we take); children live in it.
void free_reply(void* reply) noexcept
{
    delete static_cast<RedisReply*>(reply);
}

redisReplyObjectFunctions functions{create_string, create_array, create_integer, create_nil, free_reply};

} // namespace

RedisReplyReader::RedisReplyReader(RedisReplyLimits limits) : budget_{limits}
{
    reader_ = redisReaderCreateWithFunctions(&functions);
    if (reader_ == nullptr) {
        failed_ = "cannot allocate the Redis reply parser";
        return;
    }
    reader_->privdata = &budget_;
}

RedisReplyReader::~RedisReplyReader()
{
    if (reader_ != nullptr) {
        redisReaderFree(reader_);
    }
}

Fallible<bool> RedisReplyReader::feed(std::string_view bytes)
{
    if (!failed_.empty()) {
        return Failure{failed_};
    }
    if (bytes.size() > budget_.limits.max_bytes - pending_) {
        failed_ = "a Redis reply is larger than " + std::to_string(budget_.limits.max_bytes) + " bytes";
        return Failure{failed_};
    }
    if (redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK) {
        failed_ = std::string("the Redis reply parser failed: ") + reader_->errstr;
        return Failure{failed_};
    }
    pending_ += bytes.size();
    return true;
}

Fallible<std::optional<RedisReply>> RedisReplyReader::next()
{
    if (!failed_.empty()) {
        return Failure{failed_};
    }
    void* raw = nullptr;
    if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
        failed_ = budget_.exceeded
                      ? "a Redis reply has more than " + std::to_string(budget_.limits.max_elements) +
                            " elements or is nested deeper than " + std::to_string(budget_.limits.max_depth)
                      : std::string("malformed Redis reply: ") + reader_->errstr;
        return Failure{failed_};
    }
    if (raw == nullptr) {
        return std::optional<RedisReply>{};
    }
    std::unique_ptr<RedisReply> reply(static_cast<RedisReply*>(raw));
    budget_.elements = 0;
    pending_ = reader_->len - reader_->pos;
    return std::optional<RedisReply>(std::move(*reply));
}

} // namespace pam_oauth2::shared_cache
