#include "broker_service.hpp"

#include "broker_io.h"
#include "configuration.hpp"
#include "digest.hpp"
#include "outcome.hpp"
#include "secure_string.hpp"
#include "settings_parser.hpp"
#include "url_policy.hpp"

#include <openssl/crypto.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace pam_oauth2 {
namespace {

// A PREPARE and its connection arrive together; this only bounds a client that stalls.
constexpr int64_t prepare_wait_ms = 5000;
// VERIFY follows the conversation with a person (psql prompting for the token), which PostgreSQL
// bounds with authentication_timeout (60 s by default).
constexpr int64_t verify_wait_ms = 120000;

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
    explicit Reply(uint8_t type) : buffer_(broker_header_bytes + 1 + 64 * 1024)
    {
        broker_writer_begin(&writer_, buffer_.data(), buffer_.size(), type);
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
        return length != 0 && broker_send(fd, buffer_.data(), length, broker_now_ms() + prepare_wait_ms) == 0;
    }

private:
    std::vector<unsigned char> buffer_;
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

// A transport that only notes that the login wanted the network.
class OfflineClient final : public HttpClient {
public:
    explicit OfflineClient(bool& wanted) : wanted_(wanted) {}
    HttpResult send(const HttpRequest&) override
    {
        wanted_ = true;
        HttpResult result;
        result.transport_error = "offline";
        return result;
    }

private:
    bool& wanted_;
};

std::string args_key(const std::vector<std::string>& args)
{
    std::string key;
    for (const auto& arg : args) {
        key += arg;
        key += '\n';
    }
    return key;
}

} // namespace

BrokerService::BrokerService(const DaemonConfig& config, Metrics& metrics, const Logger& logger)
    : config_(std::make_shared<const DaemonConfig>(config)), metrics_(metrics), logger_(logger),
      store_(static_cast<std::size_t>(config.cache_entries)), gate_(metrics), flights_(metrics)
{
    gate_.configure(config.allow_hosts, config.max_provider_requests);
}

void BrokerService::reconfigure(const DaemonConfig& config)
{
    {
        const std::lock_guard<std::mutex> lock(config_mutex_);
        config_ = std::make_shared<const DaemonConfig>(config);
    }
    gate_.configure(config.allow_hosts, config.max_provider_requests);
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

std::optional<Decision> BrokerService::decide_offline(const std::string& user, const SecureString& token,
                                                      const Configuration& configuration, const Logger& logger) const
{
    bool wanted_network = false;
    const HttpClientFactory offline = [&wanted_network](const HttpSettings&) {
        return std::make_unique<OfflineClient>(wanted_network);
    };
    // Its lines are kept until we know this decision counts (a stale-key warning from an offline
    // attempt would be wrong: the flight that follows asks the provider).
    std::vector<std::pair<int, std::string>> lines;
    const Logger held([&lines](int priority, const std::string& line) { lines.emplace_back(priority, line); },
                      logger.debug_enabled());
    Decision decision = decide_login(user, token, configuration, offline, system_now, held, &store_);
    if (wanted_network) {
        return std::nullopt;
    }
    for (const auto& [priority, line] : lines) {
        logger.log(priority, line);
    }
    return decision;
}

void BrokerService::serve_login(int fd, const ucred& peer)
{
    const auto settings_of_daemon = config();
    const std::string who = "peer uid=" + std::to_string(peer.uid) + " pid=" + std::to_string(peer.pid);
    const auto& allowed = settings_of_daemon->allow_uids;
    if (std::find(allowed.begin(), allowed.end(), peer.uid) == allowed.end()) {
        metrics_.peer_refused();
        logger_.log(LOG_WARNING, who + ": refused, uid not in allow_users");
        send_refused(fd, "uid " + std::to_string(peer.uid) + " is not in pam_oauth2d's allow_users");
        return;
    }
    Received prepare;
    if (!prepare.receive(fd, prepare_wait_ms) || prepare.message.type != broker_prepare) {
        logger_.log(LOG_WARNING, who + ": no valid PREPARE (" + std::strerror(errno) + ")");
        send_refused(fd, "protocol error: expected PREPARE");
        return;
    }
    std::vector<std::string> args;
    for (std::size_t i = 0; i < prepare.message.field_count; ++i) {
        const broker_field& field = prepare.message.fields[i];
        if (field.tag == broker_arg) {
            args.emplace_back(reinterpret_cast<const char*>(field.value), field.length);
        }
    }
    const std::string service = prepare.text(broker_service);
    const std::string prefix = who + " service=" + log_value(service) + ": ";
    const std::vector<std::string_view> views(args.begin(), args.end());

    auto loaded = load_configuration(views);
    if (auto* configuration = std::get_if<Configuration>(&loaded)) {
        if (auto problem = check_hosts(configuration->settings, *settings_of_daemon)) {
            loaded = ConfigError{*problem, false};
        } else {
            for (const auto& issuer : configuration->issuers) {
                if (auto issuer_problem = check_hosts(issuer.settings, *settings_of_daemon)) {
                    loaded = ConfigError{*issuer_problem, false};
                    break;
                }
            }
        }
    }
    if (auto* error = std::get_if<ConfigError>(&loaded)) {
        DecisionRecord record;
        record.outcome = Outcome::ConfigError;
        record.reason = "configuration error: " + error->message;
        const std::string line = format_decision(record);
        const int priority = error->in_file ? LOG_ALERT : LOG_ERR;
        metrics_.login(result_word(Outcome::ConfigError), "");
        logger_.log(priority, prefix + line);
        Reply(broker_prepared)
            .number(broker_pam_code, to_pam_code(Outcome::ConfigError))
            .number(broker_priority, priority)
            .text(broker_log_line, line)
            .send(fd);
        return;
    }
    const auto configuration = std::make_shared<const Configuration>(std::move(std::get<Configuration>(loaded)));
    const Settings& settings = configuration->settings;
    // The whole answer must come within the transport timeout, however many requests a login needs.
    const long budget_ms = settings.http.timeout_ms;
    if (!Reply(broker_prepared)
             .text(broker_prompt, settings.conversation.prompt)
             .number(broker_use_first_pass, settings.conversation.use_first_pass ? 1 : 0)
             .number(broker_budget_ms, budget_ms)
             .number(broker_log_stderr, settings.log.target == LogTarget::Stderr ? 1 : 0)
             .send(fd)) {
        return;
    }

    Received verify;
    if (!verify.receive(fd, verify_wait_ms) || verify.message.type != broker_verify) {
        logger_.log(LOG_NOTICE, prefix + "no VERIFY followed (" + std::strerror(errno) + ")");
        return;
    }
    const auto started = std::chrono::steady_clock::now();
    DecisionRecord record;
    record.rhost = verify.text(broker_rhost);
    const std::string user = verify.text(broker_user);
    Decision decision;
    const broker_field* token_field = broker_find(&verify.message, broker_token);
    if (token_field == nullptr) {
        // The module could not collect user or token; it says why, and we write the line.
        int64_t code = to_pam_code(Outcome::Denied);
        broker_find_int(&verify.message, broker_pam_code, &code);
        decision.outcome =
            code == to_pam_code(Outcome::ConversationAgain) ? Outcome::ConversationAgain : Outcome::Denied;
        decision.reason = verify.text(broker_reason);
    } else {
        auto token = std::make_shared<const SecureString>(
            std::string_view(reinterpret_cast<const char*>(token_field->value), token_field->length));
        record.token_fingerprint = token_fingerprint(token->view());
        const Logger login_logger(
            [this, prefix](int priority, const std::string& line) { logger_.log(priority, prefix + line); },
            settings.log.debug);
        // Most logins need no network (JWKS in memory, a cached verdict, a malformed token): decide
        // those at once on this thread. Only a login that wants the provider joins a flight.
        if (auto offline = decide_offline(user, *token, *configuration, login_logger)) {
            metrics_.answered_from_memory();
            decision = std::move(*offline);
        } else {
            auto work = [this, configuration, token, user, login_logger] {
                return decide_login(user, *token, *configuration, gate_.factory(), system_now, login_logger, &store_);
            };
            // The key is a digest; what it is made from holds the token, so it is wiped like it.
            SecureString material(args_key(args));
            material.append(std::string_view("\0", 1));
            material.append(user);
            material.append(std::string_view("\0", 1));
            material.append(token->view());
            const std::string key = sha256_hex(material.view());
            auto decided = flights_.decide(key, std::move(work), std::chrono::milliseconds(budget_ms),
                                           settings_of_daemon->negative_cache_seconds);
            if (decided) {
                decision = std::move(*decided);
            } else {
                decision.outcome = Outcome::Unavailable;
                decision.reason =
                    "identity provider did not answer within timeout (" + std::to_string(budget_ms) + " ms)";
                decision.user_loggable = true;
            }
        }
    }
    record.outcome = decision.outcome;
    record.reason = decision.reason;
    record.method = decision.method;
    if (decision.user_loggable) {
        record.user = user;
    }
    record.elapsed_ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    const std::string line = format_decision(record);
    const int priority = decision_priority(decision.outcome);
    metrics_.login(result_word(decision.outcome), decision.method);
    logger_.log(priority, prefix + line);
    Reply verdict(broker_verdict);
    verdict.number(broker_pam_code, to_pam_code(decision.outcome))
        .number(broker_priority, priority)
        .text(broker_log_line, line);
    if (decision.outcome == Outcome::Granted && decision.valid_until) {
        verdict.number(broker_valid_until, *decision.valid_until);
    }
    verdict.send(fd);
}

} // namespace pam_oauth2
