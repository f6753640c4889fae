#include "audit_stage.hpp"

#include "audit_login.hpp"

#include <security/pam_modules.h>

#include <ctime>

namespace pam_oauth2 {
namespace {

std::string pam_service(pam_handle_t* pamh)
{
    const void* value = nullptr;
    if (pam_get_item(pamh, PAM_SERVICE, &value) != PAM_SUCCESS || value == nullptr) {
        return {};
    }
    return static_cast<const char*>(value);
}

} // namespace

void audit_inprocess_login(pam_handle_t* pamh, const Settings& settings, const LoginResult& result,
                           const Logger& logger) noexcept
{
    try {
        // Made per login: the module keeps nothing open in the host between logins, and a rotated
        // file is picked up by the next one.
        const auto sink = make_audit_sink(settings.audit, logger);
        if (sink) {
            sink->write(login_audit_event(result, pam_service(pamh), audit_host_name(), std::time(nullptr)));
        }
    } catch (...) {
        return; // out of memory: the decision line was written, the login stands
    }
}

} // namespace pam_oauth2
