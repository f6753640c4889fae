#pragma once

#include "logger.hpp"
#include "settings_fwd.hpp"

#include <security/pam_appl.h>

#include <string>

namespace pam_oauth2 {

// A thin wrapper over pam_handle_t for the verifier: the only code besides pam_entry.cpp that talks
// to libpam (through handle_io.h, which the module front shares).
class PamContext {
public:
    explicit PamContext(pam_handle_t* pamh) : pamh_(pamh) {}

    /// A logger writing to pam_syslog, or to stderr in pam_syslog's format when log=stderr;
    /// `stage` is "auth" or "account", as pam_syslog names it.
    [[nodiscard]] Logger make_logger(const LogSettings& log, const char* stage) const;
    /// PAM_RHOST, empty when unset.
    [[nodiscard]] std::string rhost() const;
    [[nodiscard]] pam_handle_t* handle() const { return pamh_; }

private:
    pam_handle_t* pamh_;
};

} // namespace pam_oauth2
