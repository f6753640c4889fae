#include "server.hpp"

#include "admission.hpp"
#include "logout_endpoint.hpp"
#include "metrics_endpoint.hpp"
#include "url_policy.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pam_oauth2 {
namespace {

// The socket systemd passed (socket activation), or -1.
int activated_socket()
{
    const char* pid = std::getenv("LISTEN_PID");
    const char* fds = std::getenv("LISTEN_FDS");
    if (pid == nullptr || fds == nullptr || std::strtol(pid, nullptr, 10) != static_cast<long>(getpid()) ||
        std::strtol(fds, nullptr, 10) < 1) {
        return -1;
    }
    constexpr int first_passed_fd = 3; // sd_listen_fds(3)
    return first_passed_fd;
}

std::variant<int, std::string> listen_on(const std::string& path)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) {
        return "socket path " + path + " is too long";
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            return path + " exists and is not a socket";
        }
        unlink(path.c_str()); // left by an earlier run
    }
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::string("socket: ") + std::strerror(errno);
    }
    // Anyone may connect; SO_PEERCRED and allow_users decide who is answered.
    const mode_t old_mask = umask(0111);
    const int bound = bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    umask(old_mask);
    if (bound != 0 || listen(fd, 512) != 0) {
        const std::string problem = "cannot listen on " + path + ": " + std::strerror(errno);
        close(fd);
        return problem;
    }
    return fd;
}

std::optional<std::string> drop_privileges(const std::string& user)
{
    char buffer[4096];
    passwd entry{};
    passwd* found = nullptr;
    if (getpwnam_r(user.c_str(), &entry, buffer, sizeof buffer, &found) != 0 || found == nullptr) {
        return "user " + user + " does not exist (create it, or set user = in the configuration)";
    }
    if (found->pw_uid == 0) {
        return std::string("pam_oauth2d never runs as root: set user = to an unprivileged system user");
    }
    if (setgroups(0, nullptr) != 0 || setgid(found->pw_gid) != 0 || setuid(found->pw_uid) != 0) {
        return std::string("cannot drop privileges: ") + std::strerror(errno);
    }
    if (setuid(0) == 0) {
        return std::string("privileges could be regained after dropping them");
    }
    return std::nullopt;
}

// SIGHUP, SIGTERM and SIGINT, blocked here so that sigwait in run_daemon takes them, in no other thread.
sigset_t block_signals()
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    static_cast<void>(std::signal(SIGPIPE, SIG_IGN));
    return signals;
}

// The listening socket the service manager passed, or one bound here; -1 with the problem logged.
int open_listener(const DaemonConfig& initial, const Logger& logger, bool& activated)
{
    const int passed = activated_socket();
    activated = passed >= 0;
    if (activated) {
        return passed;
    }
    auto listening = listen_on(initial.socket);
    if (auto* problem = std::get_if<std::string>(&listening)) {
        logger.log(LOG_ERR, *problem);
        return -1;
    }
    return std::get<int>(listening);
}

// Threads block in accept() on the listening socket themselves, so a login needs no thread to be
// created or woken in between. One more is started whenever none is left waiting, up to
// max_clients; beyond that, connections wait in the socket's backlog, and a module that waits too
// long falls back (or refuses) as broker_fallback says. One peer uid holds at most
// max_clients_per_user of them (silent connections included, each bounded by the request wait), so
// one flooding uid leaves threads for the others. The threads are never joined: the daemon leaves
// with _Exit while they may still serve.
class Acceptors {
public:
    Acceptors(int listener, BrokerService& service, Metrics& metrics, const Logger& logger, const DaemonConfig& config)
        : listener_(listener), service_(service), metrics_(metrics), logger_(logger), max_clients_(config.max_clients),
          per_user_(clients_per_user(config))
    {
    }

    void start(int count)
    {
        for (int i = 0; i < count && i < max_clients_; ++i) {
            start_one();
        }
    }
    void configure(const DaemonConfig& config)
    {
        max_clients_ = config.max_clients;
        per_user_ = clients_per_user(config);
    }
    /// Wakes every accept() and lets logins in progress finish, briefly.
    void stop()
    {
        stopping_ = true;
        shutdown(listener_, SHUT_RDWR);
        close(listener_);
        for (int waited = 0; waited < 50 && metrics_.connections.load() > 0; ++waited) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }

private:
    void start_one()
    {
        const std::lock_guard<std::mutex> lock(threads_mutex_);
        ++started_;
        ++waiting_;
        try {
            threads_.emplace_back([this] { accept_loop(); });
        } catch (const std::system_error&) {
            --started_;
            --waiting_;
        }
    }

    void accept_loop()
    {
        while (!stopping_) {
            const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno != EINTR && errno != ECONNABORTED && !stopping_) {
                    logger_.log(LOG_ERR, std::string("accept: ") + std::strerror(errno));
                    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // EMFILE and the like
                }
                continue;
            }
            if (--waiting_ == 0 && started_ < max_clients_ && !stopping_) {
                start_one();
            }
            serve_within_share(fd);
            close(fd);
            ++waiting_;
        }
    }

    // Serves `fd` unless its uid already holds its share of the threads.
    void serve_within_share(int fd)
    {
        ucred peer{};
        socklen_t length = sizeof peer;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) {
            return;
        }
        const long share = per_user_.load();
        const auto slot = peers_.enter(std::to_string(peer.uid), share);
        if (!slot) {
            refuse_over_share(fd, peer, share);
            return;
        }
        ++metrics_.connections;
        service_.serve(fd, peer);
        --metrics_.connections;
    }

    void refuse_over_share(int fd, const ucred& peer, long share)
    {
        metrics_.over_cap("user");
        const std::string uid = std::to_string(peer.uid);
        service_.refusals().refused(
            peer.uid, "over max_clients_per_user",
            "peer uid=" + uid + " pid=" + std::to_string(peer.pid) +
                ": refused, the uid already holds max_clients_per_user=" + std::to_string(share) + " connections");
        send_refusal(fd, "uid " + uid + " already holds its share of pam_oauth2d (max_clients_per_user=" +
                             std::to_string(share) + ")");
    }

    const int listener_;
    BrokerService& service_;
    Metrics& metrics_;
    const Logger& logger_;
    std::atomic<long> max_clients_;
    std::atomic<long> per_user_;
    Admission peers_;
    std::atomic<bool> stopping_{false};
    std::atomic<long> waiting_{0};
    std::atomic<long> started_{0};
    std::mutex threads_mutex_;
    std::vector<std::thread> threads_;
};

// Applies SIGHUP reloads until SIGTERM or SIGINT comes.
void serve_until_stopped(const sigset_t& signals, const std::string& config_path, BrokerService& service,
                         Acceptors& acceptors, const Logger& logger)
{
    for (;;) {
        int received = 0;
        if (sigwait(&signals, &received) != 0) {
            continue;
        }
        if (received != SIGHUP) {
            return;
        }
        auto reloaded = load_daemon_config(config_path);
        if (auto* problem = std::get_if<std::string>(&reloaded)) {
            logger.log(LOG_ERR, "reload refused, keeping the running configuration: " + *problem);
            service.audit().reopen(); // a rotated audit file is let go all the same
            continue;
        }
        const auto& config = std::get<DaemonConfig>(reloaded);
        service.reconfigure(config);
        acceptors.configure(config);
        logger.log(LOG_INFO, "configuration reloaded: " + describe_daemon_config(config));
    }
}

// The back-channel logout endpoint, when logout_listen is set: its policy and its TLS are the
// configuration at start (a reload does not rebind it nor read its certificate again). False with
// the problem logged when it cannot listen.
bool open_logout(const DaemonConfig& initial, BrokerService& service, Metrics& metrics, const Logger& logger)
{
    if (initial.logout_listen.empty()) {
        return true;
    }
    if (!initial.logout_tls_cert_file.empty() && !initial.logout_tls) {
        // Fail closed: never serve in clear text what was configured for TLS (maybe beyond loopback).
        logger.log(LOG_ERR, "back-channel logout: logout_tls_cert_file is set but its TLS context was not loaded");
        return false;
    }
    LogoutTokenPolicy policy;
    for (const auto& entry : initial.logout_issuers) {
        policy.issuers.push_back({entry.issuer, entry.client_id});
    }
    policy.max_age_seconds = initial.logout_max_age;
    LogoutEndpoint::Dependencies with;
    with.keys = [&service](const std::string& issuer, bool refresh) { return service.logout_keys(issuer, refresh); };
    with.signed_out = [&service](const SignedOut& signed_out) { service.sign_out(signed_out); };
    // The sessions tracked under session_end_on_logout for that sign-in end too.
    with.end_sessions = [&service](const SignedOut& signed_out) {
        return service.sessions().end_signed_out(signed_out);
    };
    with.metrics = &metrics;
    with.logger = &logger;
    with.now = system_now;
    with.now_ms = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    };
    auto endpoint = std::make_shared<LogoutEndpoint>(std::move(policy), initial.logout_rate, std::move(with));
    if (auto problem = LogoutEndpoint::open(initial.logout_listen, endpoint, initial.logout_tls)) {
        logger.log(LOG_ERR, *problem);
        return false;
    }
    const auto colon = initial.logout_listen.rfind(':');
    if (!is_loopback_host(initial.logout_listen.substr(0, colon))) {
        logger.log(LOG_WARNING, "back-channel logout listens beyond loopback on " + initial.logout_listen +
                                    " (TLS): let only the identity provider or the reverse proxy reach it");
    }
    return true;
}

} // namespace

int run_daemon(const std::string& config_path, const DaemonConfig& initial, const Logger& logger)
{
    const sigset_t signals = block_signals();
    bool activated = false;
    const int listener = open_listener(initial, logger, activated);
    if (listener < 0) {
        return 1;
    }
    Metrics metrics;
    std::unique_ptr<MetricsEndpoint> endpoint;
    if (!initial.metrics.empty()) {
        auto opened = MetricsEndpoint::open(initial.metrics, metrics);
        if (auto* problem = std::get_if<std::string>(&opened)) {
            logger.log(LOG_ERR, *problem);
            return 1;
        }
        endpoint = std::move(std::get<std::unique_ptr<MetricsEndpoint>>(opened));
    }
    if (geteuid() == 0) {
        if (auto problem = drop_privileges(initial.user)) {
            logger.log(LOG_ERR, *problem);
            return 1;
        }
    }
    // Tokens live in this process's memory: no core dumps, no ptrace by the same user.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    BrokerService service(initial, metrics, logger);
    if (!open_logout(initial, service, metrics, logger)) {
        return 1;
    }
    logger.log(LOG_INFO, std::string("pam_oauth2d ready") + (activated ? " (socket activation)" : "") + ": " +
                             describe_daemon_config(initial));
    Acceptors acceptors(listener, service, metrics, logger, initial);
    acceptors.start(4);
    serve_until_stopped(signals, config_path, service, acceptors, logger);
    acceptors.stop();
    service.refusals().flush();
    logger.log(LOG_INFO, "pam_oauth2d stopped");
    // Acceptors still serving and detached verifications may still run: leave without running
    // destructors under them.
    std::_Exit(0);
}

} // namespace pam_oauth2
