// A shared cache value as read from Redis, which anyone with write access to it may have written:
// open() must refuse everything but what this fleet sealed under that name, and never crash.
#include "sealed_entry.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sc = pam_oauth2::shared_cache;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const sc::FleetKeys keys = sc::FleetKeys::derive(std::string(48, 'k'), std::string(40, 'p')).value();
    static const std::string name = keys.entry_name("po2:", {"userinfo", "digest", "fingerprint"});
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto opened = keys.open(name, input, 1'800'000'000);
    if (opened.ok()) {
        // Only a value sealed with our keys can open: a fuzzer cannot forge a GCM tag.
        __builtin_trap();
    }
    // And what we seal opens again, whatever the payload.
    const auto sealed = keys.seal(name, {1'800'000'000, 1'800'000'060, std::string(input)});
    if (sealed.ok() && (!keys.open(name, sealed.value(), 1'800'000'001).ok() ||
                        keys.open(name, sealed.value(), 1'800'000'001).value().payload != input)) {
        __builtin_trap();
    }
    return 0;
}
