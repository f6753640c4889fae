#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

// One meaningful line of a configuration file, in the one syntax every file of the project shares
// (conf= files, pam_oauth2d.conf, the token helper's profiles):
//   key = value      blanks around the key and the value are dropped
//   key              a bare key (a flag); the reader of the file decides whether it may be bare
//   [kind NAME]      a section header; NAME is one word
//   # comment        '#' starts a comment at the start of a line or after a blank (space or tab),
//                    so `https://idp/#frag` keeps its '#' while `value   # why` drops the comment
// Blank and comment-only lines are skipped.
struct ConfigLine {
    int number = 0;                        // 1-based line number in the file
    bool section = false;                  // a [kind NAME] header
    std::string_view key;                  // the key, or for a header its NAME
    std::optional<std::string_view> value; // nullopt for a bare key or a header
};

// A line the reader could not read, with its number.
struct ConfigSyntaxError {
    int number = 0;
    std::string problem;
};

/// The problem with a line whose key the reader does not know, naming only its number: "line N is not
/// key = value" for a bare word, "line N is not a known `what`" otherwise. A file's content is never
/// echoed: the file may be any file the reader can open (/etc/shadow through a conf= path), or a
/// mistyped line may hold a secret (`client_secret: X`).
std::string unknown_line(const ConfigLine& line, std::string_view what);

/// `line` without its comment and its surrounding blanks, by the rule above.
std::string_view without_comment(std::string_view line);

/// The lines of `text`. A line starting with '[' is a header of `section_kind` ("issuer", "profile");
/// any other header is refused as "a section is written [KIND NAME]". With an empty `section_kind`
/// the file has no sections and such a line is an ordinary key. The views point into `text`.
std::variant<std::vector<ConfigLine>, ConfigSyntaxError> read_config_lines(std::string_view text,
                                                                           std::string_view section_kind);

} // namespace pam_oauth2
