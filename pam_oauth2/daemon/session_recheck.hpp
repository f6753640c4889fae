#pragma once

#include "cache.hpp"
#include "configuration.hpp"
#include "logger.hpp"
#include "provider_gate.hpp"
#include "secure_string.hpp"
#include "session_tracker.hpp"

#include <functional>
#include <memory>
#include <string>

namespace pam_oauth2 {

// What re-checking a tracked session's token needs, held only by its tracker entry: the token in a
// SecureString (wiped when the entry lets go of it: the session ended, refused, forgotten or
// replaced), the PAM user as the login presented it, and the configuration the login was decided
// with (the same Settings: a reload does not change what an open session is judged by).
struct RecheckMaterial {
    SecureString token;
    std::string user;
    std::shared_ptr<const Configuration> configuration;
};

// Asks the provider again through the core's decide_login, exactly as the login was decided, but
// around the verdict cache (a cached verdict would only repeat the login's answer): through the
// daemon's provider gate (allow_hosts, per-host limit, breaker), within the configuration's timeout.
// A refusal (inactive token, 401 at userinfo, a user that no longer matches) drops the verdicts the
// login left for the token, in memory and in the fleet's cache, by overwriting them with an entry
// the verdict cache does not accept. Anything but a grant or a refusal is Unavailable.
class ProviderRechecker final : public SessionRechecker {
public:
    /// `waiting`: the max_provider_waiting in force (read at each re-check).
    ProviderRechecker(ProviderGate& gate, const DocumentStore& store, std::function<long()> waiting,
                      const Logger& logger)
        : gate_(gate), store_(store), waiting_(std::move(waiting)), logger_(logger)
    {
    }

    Recheck recheck(const TrackedSession& session) override;

private:
    ProviderGate& gate_;
    const DocumentStore& store_;
    std::function<long()> waiting_;
    const Logger& logger_;
};

} // namespace pam_oauth2
