#include "verifier.hpp"

namespace pam_oauth2 {

VerifyResult verify_result(VerifyStatus status, std::string detail)
{
    VerifyResult result;
    result.status = status;
    result.detail = std::move(detail);
    return result;
}

} // namespace pam_oauth2
