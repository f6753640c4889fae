#include "run_with_token.hpp"

#include "unique_fd.hpp"

#include <openssl/crypto.h>
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

// A private temporary passfile holding `line`; its path, or empty after saying why not.
std::string write_passfile(const std::string& line)
{
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    std::string path =
        std::string(runtime != nullptr && runtime[0] == '/' ? runtime : "/tmp") + "/pam_oauth2_token.pgpass.XXXXXX";
    const UniqueFd fd(mkstemp(path.data())); // mkstemp creates 0600
    if (fd.get() < 0) {
        std::fprintf(stderr, "pam_oauth2_token: cannot create a passfile in %s: %s\n",
                     runtime != nullptr ? runtime : "/tmp", std::strerror(errno));
        return "";
    }
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        ::unlink(path.c_str());
        return "";
    }
    return path;
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
    std::string passfile;
    std::vector<std::string> extra;
    if (handoff.passfile) {
        std::string line = passfile_line(token.view());
        passfile = write_passfile(line);
        OPENSSL_cleanse(line.data(), line.size());
        if (passfile.empty()) {
            return 127;
        }
        extra.push_back("PGPASSFILE=" + passfile);
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
    if (!passfile.empty()) {
        ::unlink(passfile.c_str());
    }
    return result;
}

} // namespace pam_oauth2::token
