// username_map files: parse, then ask the map about a fixed claim and user.
#include "username_map.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const bool ignore_case : {false, true}) {
        auto parsed = pam_oauth2::UsernameMap::parse(text, ignore_case);
        if (auto* map = std::get_if<pam_oauth2::UsernameMap>(&parsed)) {
            (void)map->maps("alice@corp.example", "alice");
            (void)map->maps("", "x");
        }
    }
    return 0;
}
