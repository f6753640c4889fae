#include "sign_in_lock.hpp"

#include "credential_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace pam_oauth2::token {

std::variant<UniqueFd, std::string> lock_sign_in(const std::string& key, long wait_seconds,
                                                 const std::function<void()>& waiting)
{
    auto directory = private_cache_directory();
    if (!directory.ok()) {
        return directory.error();
    }
    const std::string path = directory.value() + "/" + key + ".lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        return "cannot open the lock " + path + ": " + std::strerror(errno);
    }
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::seconds(wait_seconds);
    bool told = false;
    // Polled, not a blocking flock: the wait must end at the deadline (no SIGALRM games).
    constexpr auto step = std::chrono::milliseconds(50);
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) {
            continue;
        }
        if (errno != EWOULDBLOCK) {
            return "cannot lock " + path + ": " + std::strerror(errno);
        }
        if (Clock::now() >= deadline) {
            return "another call is still signing in to this profile and account (it holds " + path +
                   "); gave up after " + std::to_string(wait_seconds) + " s";
        }
        if (!told) {
            told = true;
            waiting();
        }
        std::this_thread::sleep_for(step);
    }
    return fd;
}

} // namespace pam_oauth2::token
