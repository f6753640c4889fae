#pragma once

#include "fallible.hpp"

#include <string>
#include <variant>
#include <vector>

namespace pam_oauth2 {

// One line of a PAM service stack that names a given module, with its arguments exactly as libpam
// hands them to the module (brackets removed, "\]" inside brackets a literal "]").
struct ServiceLine {
    std::string file; // where the line is (an included file's own path)
    int line = 0;     // its first physical line
    std::string type; // auth, account, session or password (without the leading '-')
    std::string control;
    std::vector<std::string> args;
};

/// The lines of `service` in `pam_dir` for `type` that load `module` (matched by file name, as in
/// "pam_oauth2.so" or "/usr/lib/x86_64-linux-gnu/security/pam_oauth2.so"), following `@include`,
/// `include` and `substack` as libpam does. Parsed the way Linux-PAM reads pam.d: "#" starts a
/// comment anywhere, a backslash at the end of a line continues it, a control may be a bracketed
/// [value=action ...] list, and an argument in [ ] may hold blanks. Or the reason the files could not
/// be read.
std::variant<std::vector<ServiceLine>, std::string> module_lines(const std::string& pam_dir, const std::string& service,
                                                                 const std::string& type, const std::string& module);

/// The same, from text (for tests and for the file once read); `read_file` reads an included service.
using ServiceReader = Fallible<std::string> (*)(const std::string& path);
std::variant<std::vector<ServiceLine>, std::string> module_lines_in(const std::string& pam_dir,
                                                                    const std::string& service, const std::string& type,
                                                                    const std::string& module, ServiceReader read_file);

} // namespace pam_oauth2
