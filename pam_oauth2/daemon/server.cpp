#include "server.hpp"

#include "metrics_endpoint.hpp"

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

} // namespace

int run_daemon(const std::string& config_path, const DaemonConfig& initial, const Logger& logger)
{
    // SIGHUP, SIGTERM and SIGINT are taken by sigwait below, in no other thread.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    static_cast<void>(std::signal(SIGPIPE, SIG_IGN));

    int listener = activated_socket();
    const bool activated = listener >= 0;
    if (!activated) {
        auto listening = listen_on(initial.socket);
        if (auto* problem = std::get_if<std::string>(&listening)) {
            logger.log(LOG_ERR, *problem);
            return 1;
        }
        listener = std::get<int>(listening);
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
    std::atomic<long> max_clients{initial.max_clients};
    std::atomic<bool> stopping{false};
    logger.log(LOG_INFO, std::string("pam_oauth2d ready") + (activated ? " (socket activation)" : "") + ": " +
                             describe_daemon_config(initial));

    // Threads block in accept() on the listening socket themselves, so a login needs no thread to be
    // created or woken in between. One more is started whenever none is left waiting, up to
    // max_clients; beyond that, connections wait in the socket's backlog, and a module that waits
    // too long falls back (or refuses) as broker_fallback says.
    std::atomic<long> waiting{0};
    std::atomic<long> started{0};
    std::mutex threads_mutex;
    std::vector<std::thread> threads;
    std::function<void()> acceptor;
    const auto start_acceptor = [&] {
        const std::lock_guard<std::mutex> lock(threads_mutex);
        ++started;
        ++waiting;
        try {
            threads.emplace_back(acceptor);
        } catch (const std::system_error&) {
            --started;
            --waiting;
        }
    };
    acceptor = [&] {
        while (!stopping) {
            const int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno != EINTR && errno != ECONNABORTED && !stopping) {
                    logger.log(LOG_ERR, std::string("accept: ") + std::strerror(errno));
                    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // EMFILE and the like
                }
                continue;
            }
            if (--waiting == 0 && started < max_clients && !stopping) {
                start_acceptor();
            }
            ucred peer{};
            socklen_t length = sizeof peer;
            if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0) {
                ++metrics.connections;
                service.serve(fd, peer);
                --metrics.connections;
            }
            close(fd);
            ++waiting;
        }
    };
    for (int i = 0; i < 4 && i < initial.max_clients; ++i) {
        start_acceptor();
    }

    for (;;) {
        int received = 0;
        if (sigwait(&signals, &received) != 0) {
            continue;
        }
        if (received == SIGHUP) {
            auto reloaded = load_daemon_config(config_path);
            if (auto* problem = std::get_if<std::string>(&reloaded)) {
                logger.log(LOG_ERR, "reload refused, keeping the running configuration: " + *problem);
                continue;
            }
            const auto& config = std::get<DaemonConfig>(reloaded);
            service.reconfigure(config);
            max_clients = config.max_clients;
            logger.log(LOG_INFO, "configuration reloaded: " + describe_daemon_config(config));
            continue;
        }
        break;
    }
    stopping = true;
    shutdown(listener, SHUT_RDWR); // wakes every accept()
    close(listener);
    // Let logins in progress finish, briefly.
    for (int waited = 0; waited < 50 && metrics.connections.load() > 0; ++waited) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    logger.log(LOG_INFO, "pam_oauth2d stopped");
    // Acceptors still serving and detached verifications may still run: leave without running
    // destructors under them.
    std::_Exit(0);
}

} // namespace pam_oauth2
