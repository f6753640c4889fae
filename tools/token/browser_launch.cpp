#include "browser_launch.hpp"

#include "text.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <vector>

extern char** environ;

namespace pam_oauth2::token {

namespace {

std::vector<std::string> words_of(const std::string& command)
{
    std::vector<std::string> words;
    std::size_t at = command.find_first_not_of(" \t");
    while (at != std::string::npos) {
        const std::size_t end = command.find_first_of(" \t", at);
        words.push_back(command.substr(at, end == std::string::npos ? std::string::npos : end - at));
        at = command.find_first_not_of(" \t", end == std::string::npos ? command.size() : end);
    }
    return words;
}

} // namespace

std::optional<std::string> open_in_browser(const std::string& command, const std::string& url)
{
    std::vector<std::string> words = words_of(command);
    if (words.empty()) {
        const char* browser = std::getenv("BROWSER");
        words.emplace_back(browser != nullptr && *browser != '\0' ? browser : "xdg-open");
    }
    words.push_back(url);
    std::vector<char*> argv;
    argv.reserve(words.size() + 1);
    for (auto& word : words) {
        argv.push_back(word.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (const int fd : {0, 1, 2}) {
        posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    }
    pid_t child = -1;
    const int failed = posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (failed != 0) {
        return "cannot start " + printable(words.front()) + ": " + std::strerror(failed);
    }
    // A launcher such as xdg-open returns at once; a browser started directly may run on: either
    // way it is not waited for here (it is reaped when it ends before this process does).
    (void)waitpid(child, nullptr, WNOHANG);
    return std::nullopt;
}

} // namespace pam_oauth2::token
