#include "run_with_token.hpp"

#include "unique_fd.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace pam_oauth2::token {
namespace {

// The environment of the child: ours without the variables we set, then `extra` (NAME=value).
std::vector<char*> child_environment(const std::vector<std::string>& names, std::vector<std::string>& extra)
{
    std::vector<char*> out;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        bool replaced = false;
        for (const auto& name : names) {
            replaced =
                replaced || (std::strncmp(*entry, name.c_str(), name.size()) == 0 && (*entry)[name.size()] == '=');
        }
        if (!replaced) {
            out.push_back(*entry);
        }
    }
    for (auto& entry : extra) {
        out.push_back(entry.data());
    }
    out.push_back(nullptr);
    return out;
}

// The passfile as a memory file (memfd) holding `line`, or an invalid descriptor after saying why
// not. No name on any file system refers to it, so nothing is left behind however the helper ends
// (SIGTERM, SIGHUP, a crash): it lives while a descriptor of it is open, in this process and in the
// child that inherits it. libpq stat()s PGPASSFILE (/dev/fd/N follows to the memfd: a regular file)
// and ignores a file with group or other access; a memfd starts 0777, so it is made 0600 first.
// Sealed after writing: no descendant can change the line the next one reads.
UniqueFd memory_passfile(const std::string& line)
{
    UniqueFd fd(::memfd_create("pam_oauth2_token.pgpass", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    const auto failed = [&](const char* doing) {
        std::fprintf(stderr, "pam_oauth2_token: cannot %s the passfile: %s\n", doing, std::strerror(errno));
        return UniqueFd(-1);
    };
    if (fd.get() < 0) {
        return failed("create");
    }
    if (::fchmod(fd.get(), 0600) != 0) {
        return failed("protect");
    }
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        return failed("write");
    }
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
        return failed("seal");
    }
    return fd;
}

} // namespace

std::string passfile_line(std::string_view password)
{
    std::string line = "*:*:*:*:";
    for (const char c : password) {
        if (c == ':' || c == '\\') {
            line += '\\';
        }
        line += c;
    }
    return line + "\n";
}

int run_with_token(const std::vector<std::string>& command, const SecureString& token, const ChildHandoff& handoff)
{
    UniqueFd passfile(-1);
    std::vector<std::string> extra;
    if (handoff.passfile) {
        std::string line = passfile_line(token.view());
        passfile = memory_passfile(line);
        OPENSSL_cleanse(line.data(), line.size());
        if (passfile.get() < 0) {
            return 127;
        }
        extra.push_back("PGPASSFILE=/dev/fd/" + std::to_string(passfile.get()));
    } else {
        extra.push_back(handoff.variable + "=" + std::string(token.view()));
    }
    // The child's own passwords must not win over the token: both names are replaced.
    auto environment = child_environment({handoff.variable, "PGPASSFILE", "PGPASSWORD"}, extra);
    std::vector<char*> argv;
    argv.reserve(command.size() + 1);
    for (const auto& arg : command) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);

    // As system() does: ^C and ^\ are for the child (psql cancels a query), not for us.
    struct sigaction ignore {};
    struct sigaction old_int {};
    struct sigaction old_quit {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ignore, &old_int);
    sigaction(SIGQUIT, &ignore, &old_quit);
    const pid_t child = fork();
    if (child == 0) {
        sigaction(SIGINT, &old_int, nullptr);
        sigaction(SIGQUIT, &old_quit, nullptr);
        // The child inherits the passfile under the number PGPASSFILE names (and so do its children).
        if (passfile.get() >= 0 && ::fcntl(passfile.get(), F_SETFD, 0) != 0) {
            _exit(127);
        }
        execvpe(argv[0], argv.data(), environment.data());
        std::fprintf(stderr, "pam_oauth2_token: cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    for (auto& entry : extra) {
        OPENSSL_cleanse(entry.data(), entry.size());
    }
    int status = 0;
    int result = 127;
    if (child > 0) {
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        result = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
    } else {
        std::fprintf(stderr, "pam_oauth2_token: cannot start %s: %s\n", argv[0], std::strerror(errno));
    }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
    return result;
}

} // namespace pam_oauth2::token
