#include "broker_service.hpp"

#include "audit_login.hpp"
#include "broker_io.h"
#include "conf_policy.hpp"
#include "configuration.hpp"
#include "digest.hpp"
#include "json.hpp"
#include "jws.hpp"
#include "key_source.hpp"
#include "login.hpp"
#include "outcome.hpp"
#include "process_start.hpp"
#include "secure_string.hpp"
#include "session_policy.hpp"
#include "session_terminator.hpp"
#include "settings.hpp"
#include "settings_parser.hpp"
#include "shared_refusal.hpp"
#include "url_policy.hpp"

#include <openssl/crypto.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <vector>

namespace pam_oauth2 {
namespace {

// A request and its connection arrive together (the module connects only when it has the request
// ready, the conversation with a person happens between the two connections): this only bounds a
// client that stalls.
constexpr int64_t request_wait_ms = 2000;
// How many configurations the daemon keeps loaded (services times argument variants; more is unusual).
constexpr std::size_t configurations_kept = 256;

// A received frame; its body is wiped when done (a VERIFY body holds the token).
struct Received {
    unsigned char* body = nullptr;
    std::size_t length = 0;
    broker_message message{};
    Received() = default;
    Received(const Received&) = delete;
    Received& operator=(const Received&) = delete;
    ~Received()
    {
        if (body != nullptr) {
            OPENSSL_cleanse(body, length);
            std::free(body);
        }
    }
    bool receive(int fd, int64_t wait_ms)
    {
        return broker_receive(fd, broker_now_ms() + wait_ms, &body, &length, &message) == 0;
    }
    [[nodiscard]] std::string text(uint8_t tag) const
    {
        const broker_field* field = broker_find(&message, tag);
        return field == nullptr ? std::string()
                                : std::string(reinterpret_cast<const char*>(field->value), field->length);
    }
};

// Builds and sends one frame.
class Reply {
public:
    // Not zeroed: the writer fills what it sends, and a reply never holds a token.
    explicit Reply(uint8_t type) : buffer_(new unsigned char[capacity])
    {
        broker_writer_begin(&writer_, buffer_.get(), capacity, type);
    }
    Reply& text(uint8_t tag, const std::string& value)
    {
        broker_writer_add(&writer_, tag, value.data(), value.size());
        return *this;
    }
    Reply& number(uint8_t tag, int64_t value)
    {
        broker_writer_add_int(&writer_, tag, value);
        return *this;
    }
    bool send(int fd)
    {
        const std::size_t length = broker_writer_finish(&writer_);
        return length != 0 && broker_send(fd, buffer_.get(), length, broker_now_ms() + request_wait_ms) == 0;
    }

private:
    static constexpr std::size_t capacity = broker_header_bytes + 1 + 64 * 1024;
    std::unique_ptr<unsigned char[]> buffer_;
    broker_writer writer_{};
};

void send_refused(int fd, const std::string& reason)
{
    Reply(broker_refused).text(broker_reason, reason).send(fd);
}

// Every URL a configuration names must be on a host the daemon may contact.
std::optional<std::string> check_hosts(const Settings& settings, const DaemonConfig& config)
{
    const std::string candidates[] = {settings.endpoints.userinfo_url, settings.endpoints.introspection_url,
                                      settings.jwt.jwks_url, settings.jwt.discovery_url, settings.token.issuer};
    for (const auto& url : candidates) {
        // An issuer template ({tenantid}) or a non-URL issuer is checked when a request is made.
        if (!url.empty() && url.find('{') == std::string::npos && url_host(url) &&
            !host_allowed(config.allow_hosts, url)) {
            return "host " + url_host(url)->host + " is not in pam_oauth2d's allow_hosts (" + config.path + ")";
        }
    }
    return std::nullopt;
}

// The daemon's allow_hosts for every configuration's own settings and each [issuer] section's.
ConfigurationCache::Check hosts_check(const std::shared_ptr<const DaemonConfig>& daemon)
{
    return [daemon](const Configuration& configuration) -> std::optional<std::string> {
        if (auto problem = check_hosts(configuration.settings, *daemon)) {
            return problem;
        }
        for (const auto& issuer : configuration.issuers) {
            if (auto problem = check_hosts(issuer.settings, *daemon)) {
                return problem;
            }
        }
        return std::nullopt;
    };
}

// The flight and refusal key: a digest of what decides the login. What it is made from holds the
// token, so it is wiped like it.
std::string flight_key(const std::string& identity, const std::string& user, const SecureString& token)
{
    SecureString material(identity);
    material.append(std::string_view("\0", 1));
    material.append(user);
    material.append(std::string_view("\0", 1));
    material.append(token.view());
    return sha256_hex(material.view());
}

// What the module collected, as the VERIFY frame says: user and token, or why it could not.
Collected collected_from(const Received& frame)
{
    Collected collected;
    collected.user = frame.text(broker_user);
    const broker_field* token_field = broker_find(&frame.message, broker_token);
    if (token_field == nullptr) {
        int64_t code = to_pam_code(Outcome::Denied);
        broker_find_int(&frame.message, broker_pam_code, &code);
        collected.refusal =
            code == to_pam_code(Outcome::ConversationAgain) ? Outcome::ConversationAgain : Outcome::Denied;
        collected.why = frame.text(broker_reason);
    } else {
        collected.token.emplace(
            std::string_view(reinterpret_cast<const char*>(token_field->value), token_field->length));
    }
    return collected;
}

// Who ends sessions for `config`: PostgreSQL through its conninfo file, or nobody.
std::shared_ptr<SessionEnder> session_ender(const DaemonConfig& config)
{
    if (!config.session_terminate_conninfo) {
        return nullptr;
    }
    return std::make_shared<PostgresTerminator>(SecureString(config.session_terminate_conninfo->view()));
}

// The one copy of the token the daemon keeps beyond a login: only for a granted opaque token
// (userinfo, introspect) whose policy re-checks it, and only while its session is tracked.
std::shared_ptr<RecheckMaterial> keep_for_recheck(const Decision& decision, std::string_view user,
                                                  const SecureString& token,
                                                  const std::shared_ptr<const Configuration>& configuration,
                                                  const DaemonConfig& daemon)
{
    if (decision.outcome != Outcome::Granted || decision.method == "jwt" || decision.method.empty()) {
        return nullptr;
    }
    const auto& line = configuration->settings.sessions.recheck_seconds;
    if (line.value_or(daemon.session_recheck) <= 0) {
        return nullptr;
    }
    auto material = std::make_shared<RecheckMaterial>();
    material->token = SecureString(token.view());
    material->user = std::string(user);
    material->configuration = configuration;
    return material;
}

} // namespace

BrokerService::BrokerService(const DaemonConfig& config, Metrics& metrics, const Logger& logger)
    : config_(std::make_shared<const DaemonConfig>(config)), metrics_(metrics), logger_(logger),
      store_(static_cast<std::size_t>(config.cache_entries), static_cast<std::size_t>(config.cache_bytes)),
      gate_(metrics), flights_(metrics), configurations_(configurations_kept)
{
    gate_.configure(config.allow_hosts, config.max_provider_requests);
    shared_.configure(config.shared_cache_setup);
    audit_.configure(config.audit);
    metrics_.signed_out_verdicts = [this] { return store_view_.dropped(); };
    store_view_.consult_fleet(!config.logout_issuers.empty());
    sessions_.set_audit(&audit_); // "session_ended" events; audit_ outlives the tracker (declared first)
    sessions_.set_rechecker(&rechecker_);
    sessions_.configure(static_cast<std::size_t>(config.max_tracked_sessions), session_ender(config));
}

void BrokerService::reconfigure(const DaemonConfig& config)
{
    {
        const std::lock_guard<std::mutex> lock(config_mutex_);
        config_ = std::make_shared<const DaemonConfig>(config);
    }
    configurations_.clear(); // their allow_hosts verdicts were the old configuration's
    gate_.configure(config.allow_hosts, config.max_provider_requests);
    store_.configure(static_cast<std::size_t>(config.cache_entries), static_cast<std::size_t>(config.cache_bytes));
    // Documents fetched under the old allow_hosts are served only from hosts the new one admits (until
    // the first reload everything in memory was fetched through the gate, under the policy in force).
    store_.admit_only([hosts = config.allow_hosts](std::string_view url) { return host_allowed(hosts, url); });
    // A new pool (or none) for the logins that start now; running ones finish on the one they took.
    shared_.configure(config.shared_cache_setup);
    audit_.configure(config.audit); // a file is reopened: SIGHUP after rotation
    store_view_.consult_fleet(!config.logout_issuers.empty());
    sessions_.configure(static_cast<std::size_t>(config.max_tracked_sessions), session_ender(config));
}

std::shared_ptr<const DaemonConfig> BrokerService::config() const
{
    const std::lock_guard<std::mutex> lock(config_mutex_);
    return config_;
}

void BrokerService::serve(int fd, const ucred& peer) noexcept
{
    try {
        serve_login(fd, peer);
    } catch (const std::bad_alloc&) {
        logger_.log(LOG_CRIT, "out of memory serving pid " + std::to_string(peer.pid));
    } catch (...) {
        logger_.log(LOG_ERR, "internal error serving pid " + std::to_string(peer.pid));
    }
}

// One request as received: the frame (its body wiped when done) and what every answer needs.
struct BrokerService::Request {
    Received frame;
    std::vector<std::string> args;
    std::string prefix; // "peer uid=... pid=... service=...: " before every line of this login
    pid_t pid = 0;      // SO_PEERCRED's, for the audit trail
    std::string service;
    std::chrono::steady_clock::time_point started;
};

void BrokerService::serve_login(int fd, const ucred& peer)
{
    const auto daemon = config();
    const std::string who = "peer uid=" + std::to_string(peer.uid) + " pid=" + std::to_string(peer.pid);
    if (!peer_allowed(fd, peer, *daemon, who)) {
        return;
    }
    Request request;
    const broker_message& message = request.frame.message;
    if (!request.frame.receive(fd, request_wait_ms) ||
        (message.type != broker_prepare && message.type != broker_verify)) {
        refusals_.refused(peer.uid, "protocol error",
                          who + ": no valid PREPARE or VERIFY (" + std::strerror(errno) + ")");
        send_refused(fd, "protocol error: expected PREPARE or VERIFY");
        return;
    }
    request.started = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < message.field_count; ++i) {
        const broker_field& field = message.fields[i];
        if (field.tag == broker_arg) {
            request.args.emplace_back(reinterpret_cast<const char*>(field.value), field.length);
        }
    }
    const std::string service = request.frame.text(broker_service);
    request.prefix = who + " service=" + log_value(service) + ": ";
    request.pid = peer.pid;
    request.service = service;
    const long share = logins_per_service(*daemon);
    const auto slot = services_.enter(service, share);
    if (!slot) {
        refuse_over_share(fd, peer, who, service, share);
        return;
    }
    const auto loaded = load(request.args, daemon, peer.uid);
    if (message.type == broker_prepare) {
        serve_prepare(fd, request, loaded);
    } else {
        serve_verify(fd, request, loaded, *daemon);
    }
}

ConfigurationCache::Result BrokerService::load(const std::vector<std::string>& args,
                                               const std::shared_ptr<const DaemonConfig>& daemon, uid_t uid)
{
    // Checked before anything is opened: a peer may name only files below conf_dirs bound to it.
    const std::vector<std::string_view> views(args.begin(), args.end());
    if (auto refused = refused_conf_argument(*daemon, views, uid)) {
        return {std::move(*refused), ""};
    }
    return configurations_.get(args, hosts_check(daemon));
}

bool BrokerService::peer_allowed(int fd, const ucred& peer, const DaemonConfig& daemon, const std::string& who)
{
    refusals_.tick(); // every connection writes the summaries of an interval that is over
    const auto& allowed = daemon.allow_uids;
    if (std::find(allowed.begin(), allowed.end(), peer.uid) != allowed.end()) {
        return true;
    }
    metrics_.peer_refused();
    refusals_.refused(peer.uid, "not in allow_users", who + ": refused, uid not in allow_users");
    send_refused(fd, "uid " + std::to_string(peer.uid) + " is not in pam_oauth2d's allow_users");
    return false;
}

void BrokerService::serve_prepare(int fd, const Request& request, const ConfigurationCache::Result& loaded)
{
    if (const auto* error = std::get_if<ConfigError>(&loaded.loaded)) {
        const std::vector<std::string_view> args(request.args.begin(), request.args.end());
        const LoginResult result = login(*error, LoginRequest{args, "", {}}, login_dependencies(request));
        audit_login(request, result, nullptr);
        answer(fd, broker_prepared, result);
        return;
    }
    const Settings& settings = std::get<std::shared_ptr<const Configuration>>(loaded.loaded)->settings;
    // The whole answer to VERIFY comes within the transport timeout, however many requests it needs.
    Reply(broker_prepared)
        .text(broker_prompt, settings.conversation.prompt)
        .number(broker_use_first_pass, settings.conversation.use_first_pass ? 1 : 0)
        .number(broker_budget_ms, settings.http.timeout_ms)
        .number(broker_log_stderr, settings.log.target == LogTarget::Stderr ? 1 : 0)
        .send(fd);
}

void BrokerService::serve_verify(int fd, const Request& request, const ConfigurationCache::Result& loaded,
                                 const DaemonConfig& daemon)
{
    const std::vector<std::string_view> args(request.args.begin(), request.args.end());
    const LoginRequest login_request{args, request.frame.text(broker_rhost),
                                     [&request](const Configuration&) { return collected_from(request.frame); }};
    // A configuration that broke between PREPARE and VERIFY (an edited file) is reported here.
    if (const auto* error = std::get_if<ConfigError>(&loaded.loaded)) {
        const LoginResult result = login(*error, login_request, login_dependencies(request));
        audit_login(request, result, nullptr);
        answer(fd, broker_verdict, result);
        return;
    }
    const auto& configuration = std::get<std::shared_ptr<const Configuration>>(loaded.loaded);
    LoginDependencies dependencies = login_dependencies(request);
    std::shared_ptr<RecheckMaterial> recheck;
    dependencies.decide = [&](std::string_view user, const SecureString& token, const Configuration&,
                              const Logger& logger) {
        Decision decision = decide(request, user, token, configuration, loaded.identity, daemon, logger);
        recheck = keep_for_recheck(decision, user, token, configuration, daemon);
        return decision;
    };
    const LoginResult result = login(*configuration, login_request, dependencies);
    audit_login(request, result, &configuration->settings.audit);
    track_session(request, result, configuration->settings, daemon, std::move(recheck));
    answer(fd, broker_verdict, result);
}

void BrokerService::track_session(const Request& request, const LoginResult& result, const Settings& settings,
                                  const DaemonConfig& daemon, std::shared_ptr<const RecheckMaterial> recheck)
{
    if (!result.verdict.granted || !result.identity || result.record.user.empty()) {
        return;
    }
    SessionPolicy policy = resolve_session_policy(settings.sessions, daemon);
    if (!recheck) {
        policy.recheck_seconds = 0; // a JWT's login: its signature does not change (docs/sessions.md)
    }
    if (!policy.any()) {
        return;
    }
    // The peer waits for this answer, so its pid is the process that asked; its start tells a later
    // process with the same pid from it.
    const auto start = read_process_start(request.pid);
    if (!start) {
        metrics_.session_untracked();
        logger_.log(LOG_WARNING, request.prefix + "cannot read the start of the peer from /proc (hidepid?): its "
                                                  "session is not tracked, its policy not applied");
        return;
    }
    TrackedSession session;
    session.pid = request.pid;
    session.start = *start;
    session.service = request.service;
    session.user = result.record.user;
    session.identity = *result.identity;
    session.policy = policy;
    session.logged_in_at = system_now();
    session.recheck = std::move(recheck);
    if (sessions_.track(std::move(session))) {
        logger_.log(LOG_INFO, request.prefix +
                                  "session tracked (end_at_expiry=" + (policy.end_at_expiry ? "on" : "off") +
                                  " grace=" + std::to_string(policy.grace_seconds) +
                                  " max_age=" + std::to_string(policy.max_age_seconds) +
                                  " end_on_logout=" + (policy.end_on_logout ? "on" : "off") +
                                  " recheck=" + std::to_string(policy.recheck_seconds) + ")");
    }
}

LoginDependencies BrokerService::login_dependencies(const Request& request) const
{
    LoginDependencies dependencies;
    dependencies.store = &store_view_;
    dependencies.make_logger = [this, prefix = request.prefix](const LogSettings& log) {
        return Logger([this, prefix](int priority, const std::string& line) { logger_.log(priority, prefix + line); },
                      log.debug);
    };
    return dependencies;
}

Decision BrokerService::decide(const Request& request, std::string_view user, const SecureString& token,
                               const std::shared_ptr<const Configuration>& configuration, const std::string& identity,
                               const DaemonConfig& daemon, const Logger& logger)
{
    const long budget_ms = configuration->settings.http.timeout_ms;
    const auto deadline = request.started + std::chrono::milliseconds(budget_ms);
    // The leader decides on this thread; the verdict cache and keys in memory answer most logins
    // without a request, the gate bounds the rest by the deadline.
    bool led = false;
    bool shared_refusal = false;
    long remember_seconds = daemon.negative_cache_seconds;
    std::atomic<bool> sent{false};
    const auto work = [&] {
        led = true;
        const SharedStore::LoginDeadline within(deadline);
        // Another host's refusal is read just before the first provider request, and this host's
        // own refusal shared after it: both only with a shared cache and a negative_cache.
        FleetRefusal fleet(shared_, request.args, *configuration, user, token, daemon.negative_cache_seconds);
        Decision decision =
            decide_login(user, token, *configuration,
                         fleet.consult_before_sending(gate_.factory(deadline, provider_waiting(daemon), &sent)),
                         system_now, logger, &store_view_);
        decision = fleet.settle(std::move(decision));
        shared_refusal = fleet.answered();
        remember_seconds = fleet.remember_seconds();
        return decision;
    };
    auto decided = flights_.decide(flight_key(identity, std::string(user), token), work,
                                   std::chrono::milliseconds(budget_ms), remember_seconds);
    if (led && !sent.load() && !shared_refusal) {
        metrics_.answered_from_memory();
    }
    if (decided) {
        refuse_signed_out_jwt(*decided, token);
        return std::move(*decided);
    }
    Decision decision;
    decision.outcome = Outcome::Unavailable;
    decision.reason = "identity provider did not answer within timeout (" + std::to_string(budget_ms) + " ms)";
    decision.user_loggable = true;
    return decision;
}

void BrokerService::refuse_over_share(int fd, const ucred& peer, const std::string& who, const std::string& service,
                                      long share)
{
    metrics_.over_cap("service");
    refusals_.refused(peer.uid, "service " + log_value(service) + " over max_logins_per_service",
                      who + " service=" + log_value(service) + ": refused, the service already holds " +
                          "max_logins_per_service=" + std::to_string(share) + " requests");
    send_refusal(fd, "service " + log_value(service) +
                         " already holds its share of pam_oauth2d (max_logins_per_service=" + std::to_string(share) +
                         ")");
}

void BrokerService::audit_login(const Request& request, const LoginResult& result, const AuditSettings* line) noexcept
{
    try {
        AuditEvent event = login_audit_event(result, request.service, audit_.host(), std::time(nullptr));
        event.peer_pid = request.pid;
        if (line != nullptr) {
            audit_.write_for_line(event, *line);
        } else {
            audit_.write(event);
        }
    } catch (...) {
        return; // out of memory: the decision line was logged, the answer goes out
    }
}

void BrokerService::refuse_signed_out_jwt(Decision& decision, const SecureString& token) const
{
    if (decision.outcome != Outcome::Granted || decision.method != "jwt" || !decision.identity) {
        return;
    }
    const auto& identity = *decision.identity;
    const auto at = store_view_.ended_at(identity.issuer, identity.subject, identity.session_id);
    if (!at) {
        return;
    }
    // The token verified, so its payload is the issuer's: a JWT has no provider to ask again, so one
    // issued before the logout (or without iat) is refused until it expires.
    auto parsed = parse_compact_jws(token.view());
    const auto* jws = std::get_if<CompactJws>(&parsed);
    const auto iat = jws == nullptr ? std::nullopt : integer_member(jws->payload, "iat");
    if (iat && *iat > *at) {
        return;
    }
    decision.outcome = Outcome::Denied;
    decision.reason =
        "the sign-in of this token ended at the identity provider (back-channel logout at " + std::to_string(*at) + ")";
}

KeySet BrokerService::logout_keys(const std::string& issuer, bool refresh) noexcept
{
    try {
        const auto daemon = config();
        const JwtSettings jwt; // from the issuer's discovery document; every asymmetric algorithm
        HttpSettings transport;
        transport.ca_file = daemon->logout_ca_file;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(transport.timeout_ms);
        auto http = gate_.factory(deadline, provider_waiting(*daemon))(transport);
        RemoteKeySource keys(issuer, jwt, transport, *http, &shared_, system_now, logger_);
        return keys.keys(refresh);
    } catch (...) {
        return KeySet{{}, "internal error while getting the keys"};
    }
}

void BrokerService::answer(int fd, uint8_t reply, const LoginResult& result)
{
    metrics_.login(result_word(result.record.outcome), result.record.method);
    Reply frame(reply);
    frame.number(broker_pam_code, result.pam_code)
        .number(broker_priority, result.priority)
        .text(broker_log_line, result.line);
    if (result.verdict.granted && result.verdict.valid_until) {
        frame.number(broker_valid_until, *result.verdict.valid_until);
    }
    frame.send(fd);
}

} // namespace pam_oauth2
