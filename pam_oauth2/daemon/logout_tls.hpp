#pragma once

#include "fallible.hpp"

#include <memory>

namespace pam_oauth2 {

struct DaemonConfig;
class TlsServerContext;

/// The back-channel logout endpoint's TLS context from logout_tls_cert_file and logout_tls_key_file
/// (nullptr when neither is set), both read through the project's trusted opener: owned by root or by
/// the daemon's user, not writable by others, the key not readable by group or others either. Called
/// once at start, before privileges drop, so a root-only key can be read; a reload does not read them
/// again. The failure names files, never their content.
Fallible<std::shared_ptr<const TlsServerContext>> load_logout_tls(const DaemonConfig& config);

} // namespace pam_oauth2
