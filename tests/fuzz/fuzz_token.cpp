// Token checks that run before any network call, on whatever the PAM conversation delivered.
#include "token_syntax.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view token(reinterpret_cast<const char*>(data), size);
    (void)pam_oauth2::check_token_syntax(token, 65535);
    (void)pam_oauth2::is_compact_jws(token);
    (void)pam_oauth2::truncation_hint(token);
    return 0;
}
