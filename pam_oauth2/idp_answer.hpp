#pragma once

#include "http_client.hpp"
#include "verifier.hpp"

#include <string>

namespace pam_oauth2 {

/// Common reading of an identity provider's JSON answer: transport failures, 3xx, 5xx and any status
/// other than 200 become Unavailable (with `endpoint` named in the detail); a 200 whose body is not a
/// JSON object is Unavailable too. On success the object is in `claims` and status is Valid.
/// Callers treat the statuses that mean "token refused" before calling this.
VerifyResult read_json_answer(const HttpResult& answer, const std::string& endpoint);

} // namespace pam_oauth2
