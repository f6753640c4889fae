#pragma once

#include "admission.hpp"
#include "configuration.hpp"
#include "configuration_cache.hpp"
#include "daemon_audit.hpp"
#include "daemon_config.hpp"
#include "flights.hpp"
#include "key_source.hpp"
#include "logger.hpp"
#include "login.hpp"
#include "memory_store.hpp"
#include "metrics.hpp"
#include "provider_gate.hpp"
#include "refusal_log.hpp"
#include "session_recheck.hpp"
#include "session_tracker.hpp"
#include "shared_store.hpp"
#include "signed_out.hpp"
#include "signed_out_registry.hpp"
#include "signed_out_store.hpp"

#include <sys/socket.h>

#include <memory>
#include <mutex>

namespace pam_oauth2 {

// The daemon's side of one login, in two connections that each carry one request: PREPARE is
// answered with what the module needs to collect the token (or with the configuration error), VERIFY
// (sent after the conversation, on a new connection, with the arguments again) with the core's
// decision. Nothing is held between the two: a person typing costs the daemon nothing. The caches
// (configurations, documents and verdicts in memory, refusals, in-flight verifications) and the warm
// connections are shared by every login.
class BrokerService {
public:
    BrokerService(const DaemonConfig& config, Metrics& metrics, const Logger& logger);

    /// Applies a reloaded configuration to the logins that start after it.
    void reconfigure(const DaemonConfig& config);
    /// Serves one connection to its end; never throws. `peer` is what SO_PEERCRED said.
    void serve(int fd, const ucred& peer) noexcept;
    /// The one place refused connections are logged (rate-limited), for the acceptors' refusals too.
    RefusalLog& refusals() noexcept { return refusals_; }
    /// The daemon's audit trail (its `audit` key), for events of its own such as "session_ended";
    /// follows every reload, and writes nothing when the key is off.
    DaemonAudit& audit() noexcept { return audit_; }
    /// The sessions granted logins opened under a session_* policy (the logout endpoint ends them).
    SessionTracker& sessions() noexcept { return sessions_; }

    /// Back-channel logout: verdicts cached for that sign-in stop answering, and JWTs of it issued
    /// before `signed_out.at` are refused.
    void sign_out(const SignedOut& signed_out)
    {
        signed_out_.record(signed_out);
        store_view_.mark(signed_out); // for the other hosts of a fleet, through the shared cache
    }
    /// The signing keys of a logout_issuer, through the same gate (allow_hosts, limits) and cache as
    /// the keys of access tokens. Never throws.
    KeySet logout_keys(const std::string& issuer, bool refresh) noexcept;

private:
    struct Request;
    [[nodiscard]] std::shared_ptr<const DaemonConfig> config() const;
    void serve_login(int fd, const ucred& peer);
    /// Refuses (answers and logs) a peer whose uid is not in allow_users; true when it may go on.
    bool peer_allowed(int fd, const ucred& peer, const DaemonConfig& daemon, const std::string& who);
    /// The configuration a request's arguments name: refused when its conf= lies outside conf_dirs
    /// or is not bound to the peer `uid` (conf_users), else from the cache (allow_hosts checked).
    [[nodiscard]] ConfigurationCache::Result load(const std::vector<std::string>& args,
                                                  const std::shared_ptr<const DaemonConfig>& daemon, uid_t uid);
    void serve_prepare(int fd, const Request& request, const ConfigurationCache::Result& loaded);
    void serve_verify(int fd, const Request& request, const ConfigurationCache::Result& loaded,
                      const DaemonConfig& daemon);
    /// What the core's login() works with for this request: the memory store, and a logger that
    /// writes to the daemon's log behind the request's prefix.
    [[nodiscard]] LoginDependencies login_dependencies(const Request& request) const;
    /// One decision for the login, shared with every login of the same configuration, user and token
    /// that comes while it runs; answered within the configuration's timeout.
    [[nodiscard]] Decision decide(const Request& request, std::string_view user, const SecureString& token,
                                  const std::shared_ptr<const Configuration>& configuration,
                                  const std::string& identity, const DaemonConfig& daemon, const Logger& logger);
    /// Refuses (answers, counts, logs at most one line per service per interval) a request of a
    /// service that already holds max_logins_per_service threads.
    void refuse_over_share(int fd, const ucred& peer, const std::string& who, const std::string& service, long share);
    /// Tracks the session a granted login opens when its policy asks for it; `recheck` is the token
    /// kept for session_recheck (null when the login did not keep it).
    void track_session(const Request& request, const LoginResult& result, const Settings& settings,
                       const DaemonConfig& daemon, std::shared_ptr<const RecheckMaterial> recheck);
    /// The end of every login: the line login() wrote, counted and sent as the `reply` frame.
    void answer(int fd, uint8_t reply, const LoginResult& result);
    /// The login's audit event, with the peer's pid; `line` is the module line's audit option (null
    /// for a configuration that did not load).
    void audit_login(const Request& request, const LoginResult& result, const AuditSettings* line) noexcept;
    /// A granted JWT whose sign-in ended (back-channel logout) after it was issued: refused.
    void refuse_signed_out_jwt(Decision& decision, const SecureString& token) const;

    mutable std::mutex config_mutex_;
    std::shared_ptr<const DaemonConfig> config_;
    Metrics& metrics_;
    const Logger& logger_;
    RefusalLog refusals_{logger_}; // refused connections, rate-limited; decision lines never go through it
    MemoryStore store_;
    SharedStore shared_{store_, metrics_, logger_}; // store_ with the fleet's Redis behind it, when set
    SignedOutRegistry signed_out_;
    SignedOutStore store_view_{shared_, signed_out_, system_now}; // what logins use: shared_ minus ended sign-ins
    ProviderGate gate_;
    Flights flights_;
    ConfigurationCache configurations_;
    Admission services_; // threads held per PAM service
    DaemonAudit audit_{logger_, metrics_};
    // Declared before the tracker, whose thread uses it until the tracker is gone.
    ProviderRechecker rechecker_{gate_, store_view_, [this] { return provider_waiting(*config()); }, logger_};
    SessionTracker sessions_{metrics_, logger_};
};

} // namespace pam_oauth2
