#pragma once

#include "configuration.hpp"
#include "daemon_config.hpp"
#include "flights.hpp"
#include "logger.hpp"
#include "memory_store.hpp"
#include "metrics.hpp"
#include "provider_gate.hpp"

#include <sys/socket.h>

#include <memory>
#include <mutex>

namespace pam_oauth2 {

// The daemon's side of one login: checks the peer, answers PREPARE with what the module needs to
// collect the token (or with the configuration error), then VERIFY with the core's decision. The
// caches (documents and verdicts in memory, refusals, in-flight verifications) and the warm
// connections are shared by every login.
class BrokerService {
public:
    BrokerService(const DaemonConfig& config, Metrics& metrics, const Logger& logger);

    /// Applies a reloaded configuration to the logins that start after it.
    void reconfigure(const DaemonConfig& config);
    /// Serves one connection to its end; never throws. `peer` is what SO_PEERCRED said.
    void serve(int fd, const ucred& peer) noexcept;

private:
    [[nodiscard]] std::shared_ptr<const DaemonConfig> config() const;
    void serve_login(int fd, const ucred& peer);
    /// The decision when the caches alone can make it, else nullopt (the login needs the provider).
    [[nodiscard]] std::optional<Decision> decide_offline(const std::string& user, const SecureString& token,
                                                         const Configuration& configuration,
                                                         const Logger& logger) const;

    mutable std::mutex config_mutex_;
    std::shared_ptr<const DaemonConfig> config_;
    Metrics& metrics_;
    const Logger& logger_;
    MemoryStore store_;
    ProviderGate gate_;
    Flights flights_;
};

} // namespace pam_oauth2
