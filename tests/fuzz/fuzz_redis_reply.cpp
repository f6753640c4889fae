// Bytes from a Redis server (or whoever answers in its place), fed to the reply reader in two
// pieces: it must parse, fail or wait for more, within its limits, and never crash or leak; and
// the cluster redirect read from an error reply names a real slot and port.
#include "redis_cluster.hpp"
#include "redis_reply.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sc = pam_oauth2::shared_cache;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    sc::RedisReplyLimits limits;
    limits.max_bytes = 4096;
    sc::RedisReplyReader reader(limits);
    const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
    for (const auto piece : {input.substr(0, split), input.substr(split)}) {
        if (!reader.feed(piece).ok()) {
            return 0;
        }
        for (;;) {
            const auto reply = reader.next();
            if (!reply.ok() || !reply.value()) {
                break;
            }
            // A -MOVED/-ASK address is parsed from the same bytes.
            const auto redirect = sc::parse_redirect(*reply.value());
            if (redirect && (redirect->slot < 0 || redirect->slot >= sc::cluster_slots || redirect->to.port == 0)) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
