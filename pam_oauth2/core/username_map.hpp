#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pam_oauth2 {

// The username_map file, in the manner of pg_ident.conf: each line maps a claim value to a PAM user.
//
//   # claim value            PAM user
//   alice@example.com        alice
//   /^(.*)@example\.com$     \1
//
// A first column starting with '/' is a POSIX extended regular expression matched against the whole
// claim value; "\1" in the second column is replaced by its first capture group. A login is allowed
// when some line maps the token's claim to the PAM user; nothing else is implied.
class UsernameMap {
public:
    /// Parses the file text; the reason (with the line number) when a line is malformed or a pattern
    /// does not compile. `ignore_case` applies to exact values, patterns and PAM users.
    static std::variant<UsernameMap, std::string> parse(std::string_view text, bool ignore_case);

    /// Whether some line maps `claim` to `user`.
    [[nodiscard]] bool maps(std::string_view claim, std::string_view user) const;

    [[nodiscard]] std::size_t size() const { return rules_.size(); }

private:
    struct Rule;
    UsernameMap() = default;

    std::vector<std::shared_ptr<const Rule>> rules_;
    bool ignore_case_ = false;
};

/// Lines in a username_map file beyond this are refused (the file is read at every login).
constexpr std::size_t max_username_map_rules = 1000;

} // namespace pam_oauth2
