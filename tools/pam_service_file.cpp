#include "pam_service_file.hpp"

#include <fstream>
#include <optional>
#include <sstream>

namespace pam_oauth2 {
namespace {

constexpr const char* system_pam_dir = "/etc/pam.d";
constexpr const char* distribution_pam_dir = "/usr/lib/pam.d"; // Linux-PAM's PAM_CONFIG_DIST_D
constexpr int max_include_depth = 8; // libpam's own limit is higher; a loop must end somewhere

// The logical lines of a pam.d file: comments cut, continuations joined; each with its first line number.
std::vector<std::pair<int, std::string>> logical_lines(const std::string& text)
{
    std::vector<std::pair<int, std::string>> lines;
    std::istringstream in(text);
    std::string physical;
    std::string joined;
    int number = 0;
    int first = 0;
    while (std::getline(in, physical)) {
        ++number;
        if (joined.empty()) {
            first = number;
        }
        const auto hash = physical.find('#');
        if (hash != std::string::npos) {
            physical.erase(hash);
        }
        if (!physical.empty() && physical.back() == '\\') {
            physical.back() = ' ';
            joined += physical;
            continue;
        }
        joined += physical;
        lines.emplace_back(first, joined);
        joined.clear();
    }
    if (!joined.empty()) {
        lines.emplace_back(first, joined);
    }
    return lines;
}

bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The next whitespace-separated word at `at`, or a bracketed group kept whole (with its brackets).
std::string next_word(const std::string& line, std::size_t& at)
{
    while (at < line.size() && blank(line[at])) {
        ++at;
    }
    const std::size_t start = at;
    if (at < line.size() && line[at] == '[') {
        while (at < line.size() && line[at] != ']') {
            at += line[at] == '\\' && at + 1 < line.size() ? std::size_t{2} : std::size_t{1};
        }
        at = at < line.size() ? at + 1 : at;
        return line.substr(start, at - start);
    }
    while (at < line.size() && !blank(line[at])) {
        ++at;
    }
    return line.substr(start, at - start);
}

// Module arguments as libpam's _pam_mkargv splits them: blanks separate, "[...]" groups with the
// brackets removed and "\]" inside a group a literal "]".
std::vector<std::string> split_arguments(const std::string& rest)
{
    std::vector<std::string> args;
    std::size_t at = 0;
    while (true) {
        while (at < rest.size() && blank(rest[at])) {
            ++at;
        }
        if (at >= rest.size()) {
            return args;
        }
        std::string arg;
        if (rest[at] == '[') {
            ++at;
            while (at < rest.size() && rest[at] != ']') {
                if (rest[at] == '\\' && at + 1 < rest.size() && rest[at + 1] == ']') {
                    ++at;
                }
                arg += rest[at++];
            }
            ++at; // the closing bracket
        } else {
            while (at < rest.size() && !blank(rest[at])) {
                arg += rest[at++];
            }
        }
        args.push_back(arg);
    }
}

std::string file_name(const std::string& path)
{
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

Fallible<std::string> read_whole_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in) {
        return Failure{"cannot read " + path};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Where libpam looks for a service or an included name (_pam_open_config_file in Linux-PAM's
// libpam/pam_handlers.c): an absolute name as it is; any other, even one holding a '/', below the
// configuration directory, never the working directory: the directory pam_start_confdir named
// only, else /etc/pam.d and then the distribution's /usr/lib/pam.d.
std::vector<std::string> candidates(const std::string& pam_dir, const std::string& name)
{
    if (name.front() == '/') {
        return {name};
    }
    if (pam_dir != system_pam_dir) {
        return {pam_dir + "/" + name};
    }
    return {std::string(system_pam_dir) + "/" + name, std::string(distribution_pam_dir) + "/" + name};
}

struct Walk {
    const std::string& pam_dir;
    const std::string& type;
    const std::string& module;
    ServiceReader read;
    std::vector<ServiceLine> found;

    // The first candidate for `name` that can be read (its path in `path`), as libpam takes it.
    Fallible<std::string> open_service(const std::string& name, std::string& path)
    {
        if (name.empty()) {
            return Failure{"an include names no file"};
        }
        std::string tried;
        for (const auto& candidate : candidates(pam_dir, name)) {
            auto text = read(candidate);
            if (text.ok()) {
                path = candidate;
                return text;
            }
            tried += (tried.empty() ? "" : ", nor ") + candidate;
        }
        return Failure{"cannot read " + tried};
    }

    std::optional<std::string> service(const std::string& name, int depth)
    {
        if (depth > max_include_depth) {
            return "includes nest deeper than " + std::to_string(max_include_depth) + " (a loop?) at " + name;
        }
        std::string path;
        auto text = open_service(name, path);
        if (!text.ok()) {
            return text.error();
        }
        for (const auto& [number, line] : logical_lines(text.value())) {
            std::size_t at = 0;
            std::string kind = next_word(line, at);
            if (kind.empty()) {
                continue;
            }
            if (kind == "@include") {
                if (auto problem = service(next_word(line, at), depth + 1)) {
                    return problem;
                }
                continue;
            }
            if (kind.front() == '-') {
                kind.erase(0, 1);
            }
            const std::string control = next_word(line, at);
            const std::string target = next_word(line, at);
            if (kind != type) {
                continue;
            }
            if (control == "include" || control == "substack") {
                if (auto problem = service(target, depth + 1)) {
                    return problem;
                }
                continue;
            }
            if (file_name(target) == module) {
                found.push_back({path, number, kind, control, split_arguments(line.substr(at))});
            }
        }
        return std::nullopt;
    }
};

} // namespace

std::variant<std::vector<ServiceLine>, std::string> module_lines_in(const std::string& pam_dir,
                                                                    const std::string& service, const std::string& type,
                                                                    const std::string& module, ServiceReader read_file)
{
    Walk walk{pam_dir, type, module, read_file, {}};
    if (auto problem = walk.service(service, 0)) {
        return *problem;
    }
    return std::move(walk.found);
}

std::variant<std::vector<ServiceLine>, std::string> module_lines(const std::string& pam_dir, const std::string& service,
                                                                 const std::string& type, const std::string& module)
{
    return module_lines_in(pam_dir, service, type, module, &read_whole_file);
}

} // namespace pam_oauth2
