#pragma once

#include "logger.hpp"
#include "secure_string.hpp"
#include "settings.hpp"

#include <security/pam_appl.h>

#include <optional>
#include <string>

namespace pam_oauth2 {

// What authentication leaves on the handle for pam_sm_acct_mgmt (stored with pam_set_data).
struct StoredVerdict {
    bool granted = false;
    std::optional<long long> valid_until; // last accepted second (exp plus leeway), when the method knows exp
};

// A thin wrapper over pam_handle_t: the only code besides pam_entry.cpp that talks to libpam.
class PamContext {
public:
    explicit PamContext(pam_handle_t* pamh) : pamh_(pamh) {}

    /// A logger writing to pam_syslog, or to stderr in pam_syslog's format when log=stderr;
    /// `stage` is "auth" or "account", as pam_syslog names it.
    [[nodiscard]] Logger make_logger(const LogSettings& log, const char* stage) const;

    /// The PAM user, or the PAM code that stopped us from getting it.
    int user(std::string& out) const;
    /// The token: PAM_AUTHTOK from an earlier module or the conversation (echo off, `prompt`).
    /// Copied once into wiped memory. Returns the PAM code of the libpam call.
    int token(const ConversationSettings& conversation, SecureString& out) const;
    /// PAM_RHOST, empty when unset.
    [[nodiscard]] std::string rhost() const;

    /// Replaces the verdict stored on the handle.
    int store_verdict(const StoredVerdict& verdict) const;
    /// The verdict authentication stored on this handle, if it ran.
    [[nodiscard]] std::optional<StoredVerdict> stored_verdict() const;

private:
    pam_handle_t* pamh_;
};

} // namespace pam_oauth2
