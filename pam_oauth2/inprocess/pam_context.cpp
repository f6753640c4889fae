#include "pam_context.hpp"
#include "settings.hpp"

#include "handle_io.h"

#include <security/pam_modules.h>

namespace pam_oauth2 {

Logger PamContext::make_logger(const LogSettings& log, const char* stage) const
{
    pam_handle_t* pamh = pamh_;
    const bool to_stderr = log.target == LogTarget::Stderr;
    return Logger(
        [pamh, to_stderr, stage](int priority, const std::string& line) {
            handle_log(pamh, to_stderr, stage, priority, line.c_str());
        },
        log.debug);
}

std::string PamContext::rhost() const
{
    const void* value = nullptr;
    if (pam_get_item(pamh_, PAM_RHOST, &value) != PAM_SUCCESS || value == nullptr) {
        return {};
    }
    return static_cast<const char*>(value);
}

} // namespace pam_oauth2
