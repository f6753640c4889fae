// Token checks that run before any network call, on whatever the PAM conversation delivered.
#include "token_syntax.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view token(reinterpret_cast<const char*>(data), size);
    (void)pam_oauth2::check_token_syntax(token, 65535);
    const pam_oauth2::SecureString secret(token);
    const pam_oauth2::PresentedToken presented(secret);
    (void)presented.looks_like_jws();
    (void)pam_oauth2::truncation_hint(presented);
    return 0;
}
