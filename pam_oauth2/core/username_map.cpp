#include "username_map.hpp"

#include "text.hpp"

#include <clocale>
#include <regex.h>

#include <algorithm>
#include <optional>

namespace pam_oauth2 {

// One line: an exact value, or a compiled pattern whose regex_t is freed with the rule.
struct UsernameMap::Rule {
    std::string value; // exact claim value, or the pattern text
    std::string user;  // PAM user, possibly with \1
    bool is_pattern = false;
    regex_t compiled{};

    Rule() = default;
    Rule(const Rule&) = delete;
    Rule& operator=(const Rule&) = delete;
    ~Rule()
    {
        if (is_pattern) {
            regfree(&compiled);
        }
    }
};

namespace {

// Patterns are compiled and matched in the C locale, whatever the host process chose: REG_ICASE then
// folds ASCII letters only, and bytes are bytes, so a map means the same in every process.
class CLocaleScope {
public:
    CLocaleScope() : locale_(newlocale(LC_ALL_MASK, "C", nullptr))
    {
        if (locale_ != nullptr) {
            previous_ = uselocale(locale_);
        }
    }
    ~CLocaleScope()
    {
        if (locale_ != nullptr) {
            uselocale(previous_);
            freelocale(locale_);
        }
    }
    CLocaleScope(const CLocaleScope&) = delete;
    CLocaleScope& operator=(const CLocaleScope&) = delete;
    /// False when the C locale could not be had; then nothing is compiled or matched.
    [[nodiscard]] bool active() const { return locale_ != nullptr; }

private:
    locale_t locale_;
    locale_t previous_ = nullptr;
};

bool same(std::string_view a, std::string_view b, bool ignore_case)
{
    return ignore_case ? equal_ignoring_ascii_case(a, b) : a == b;
}

// Splits a line into whitespace-separated fields; double quotes keep spaces, as in pg_ident.conf.
std::variant<std::vector<std::string>, std::string> fields_of(std::string_view line)
{
    std::vector<std::string> fields;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            ++i;
        }
        if (i >= line.size() || line[i] == '#') {
            break;
        }
        std::string field;
        if (line[i] == '"') {
            const auto close = line.find('"', i + 1);
            if (close == std::string_view::npos) {
                return std::string("unterminated quote");
            }
            field = std::string(line.substr(i + 1, close - i - 1));
            i = close + 1;
        } else {
            while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
                field += line[i++];
            }
        }
        fields.push_back(std::move(field));
    }
    return fields;
}

bool is_quantifier(char c)
{
    return c == '*' || c == '+' || c == '?' || c == '{';
}

// The largest n in a {n} or {n,m} repetition a mapping may use.
constexpr long max_repetition_bound = 100;

// The {bound} opening at `open`: its closing '}' in `close`, or why it is refused (unterminated,
// not digits and a comma, or a count above max_repetition_bound).
std::optional<std::string> check_bound(std::string_view pattern, std::size_t open, std::size_t& close)
{
    close = pattern.find('}', open);
    if (close == std::string_view::npos) {
        return std::string("pattern has an unterminated {bound}");
    }
    for (std::size_t j = open + 1; j < close; ++j) {
        if (pattern[j] != ',' && (pattern[j] < '0' || pattern[j] > '9')) {
            return std::string("pattern has a malformed {bound}");
        }
    }
    long bound = 0;
    for (std::size_t j = open + 1; j < close; ++j) {
        bound = pattern[j] == ',' ? 0 : std::min(bound * 10 + (pattern[j] - '0'), max_repetition_bound + 1);
        if (bound > max_repetition_bound) {
            return "pattern has a repetition bound above " + std::to_string(max_repetition_bound);
        }
    }
    return std::nullopt;
}

// Where the bracket expression opening at `open` ends (a ']' first in it, after an optional '^',
// is a literal), or npos when it is unterminated.
std::size_t bracket_end(std::string_view pattern, std::size_t open)
{
    std::size_t j = open + 1;
    if (j < pattern.size() && pattern[j] == '^') {
        ++j;
    }
    if (j < pattern.size() && pattern[j] == ']') {
        ++j;
    }
    return pattern.find(']', j);
}

// glibc's regcomp expands repetition by copying the repeated expression, so stacked or deeply
// nested quantifiers grow memory exponentially: "C++++++++++++++++++++++++" alone takes 2 GB (found
// by fuzzing). A mapping needs none of that; such patterns are refused before regcomp sees them.
std::optional<std::string> check_pattern_cost(std::string_view pattern)
{
    constexpr std::size_t max_length = 256;
    constexpr int max_nesting = 2;
    if (pattern.size() > max_length) {
        return "pattern longer than " + std::to_string(max_length) + " characters";
    }
    // For each open group: the deepest quantifier nesting inside it so far.
    std::vector<int> groups{0};
    int last_atom_depth = -1; // nesting inside the atom just read; -1 when there is none to quantify
    bool last_was_quantifier = false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (is_quantifier(c)) {
            if (last_was_quantifier) {
                return std::string("pattern stacks quantifiers (like a++)");
            }
            if (c == '{') {
                std::size_t close = 0;
                if (auto problem = check_bound(pattern, i, close)) {
                    return problem;
                }
                i = close;
            }
            const int depth = (last_atom_depth < 0 ? 0 : last_atom_depth) + 1;
            if (depth > max_nesting) {
                return "pattern nests quantifiers deeper than " + std::to_string(max_nesting);
            }
            groups.back() = std::max(groups.back(), depth);
            last_was_quantifier = true;
            last_atom_depth = -1;
            continue;
        }
        last_was_quantifier = false;
        if (c == '\\') {
            // A back-reference makes matching super-linear in the length of the (attacker-chosen)
            // claim value; a mapping needs none.
            if (i + 1 < pattern.size() && pattern[i + 1] >= '1' && pattern[i + 1] <= '9') {
                return std::string("pattern uses a back-reference (\\1 to \\9), which mappings do not need");
            }
            ++i;
            last_atom_depth = 0;
        } else if (c == '[') {
            const std::size_t close = bracket_end(pattern, i);
            if (close == std::string_view::npos) {
                return std::string("pattern has an unterminated [bracket expression]");
            }
            i = close;
            last_atom_depth = 0;
        } else if (c == '(') {
            groups.push_back(0);
            last_atom_depth = -1;
        } else if (c == ')') {
            if (groups.size() < 2) {
                return std::string("pattern has an unmatched )");
            }
            last_atom_depth = groups.back();
            groups.pop_back();
            groups.back() = std::max(groups.back(), last_atom_depth);
        } else if (c == '|' || c == '^') {
            last_atom_depth = -1;
        } else {
            last_atom_depth = 0;
        }
    }
    return std::nullopt;
}

} // namespace

std::variant<UsernameMap, std::string> UsernameMap::parse(std::string_view text, bool ignore_case)
{
    UsernameMap map;
    map.ignore_case_ = ignore_case;
    int line_number = 0;
    while (!text.empty()) {
        ++line_number;
        const auto newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        const std::string where = "username_map line " + std::to_string(line_number) + ": ";
        auto split = fields_of(line);
        if (auto* problem = std::get_if<std::string>(&split)) {
            return where + *problem;
        }
        auto& fields = std::get<std::vector<std::string>>(split);
        if (fields.empty()) {
            continue;
        }
        if (fields.size() != 2 || fields[0].empty() || fields[1].empty()) {
            return where + "expected two fields: claim value (or /regex) and PAM user";
        }
        if (map.rules_.size() >= max_username_map_rules) {
            return where + "more than " + std::to_string(max_username_map_rules) + " rules";
        }
        auto rule = std::make_shared<Rule>();
        rule->user = fields[1];
        if (fields[0].front() == '/') {
            rule->value = fields[0].substr(1);
            if (auto problem = check_pattern_cost(rule->value)) {
                return where + *problem;
            }
            const int flags = REG_EXTENDED | (ignore_case ? REG_ICASE : 0);
            const CLocaleScope c_locale;
            if (!c_locale.active() || regcomp(&rule->compiled, rule->value.c_str(), flags) != 0) {
                return where + "pattern does not compile";
            }
            rule->is_pattern = true;
        } else {
            if (rule->user.find("\\1") != std::string::npos) {
                return where + "\\1 needs a /regex in the first field";
            }
            rule->value = fields[0];
        }
        map.rules_.push_back(std::move(rule));
    }
    return map;
}

bool UsernameMap::maps(std::string_view claim, std::string_view user) const
{
    const std::string subject(claim);
    const CLocaleScope c_locale;
    if (!c_locale.active()) {
        return false; // fail closed
    }
    for (const auto& rule : rules_) {
        if (!rule->is_pattern) {
            if (same(rule->value, claim, ignore_case_) && same(rule->user, user, ignore_case_)) {
                return true;
            }
            continue;
        }
        regmatch_t groups[2];
        if (regexec(&rule->compiled, subject.c_str(), 2, groups, 0) != 0) {
            continue;
        }
        // The pattern must cover the whole value, so "alice" never matches "malice@evil".
        if (groups[0].rm_so != 0 || static_cast<std::size_t>(groups[0].rm_eo) != subject.size()) {
            continue;
        }
        std::string expected = rule->user;
        const auto marker = expected.find("\\1");
        if (marker != std::string::npos) {
            if (groups[1].rm_so < 0) {
                continue;
            }
            expected.replace(marker, 2,
                             subject.substr(static_cast<std::size_t>(groups[1].rm_so),
                                            static_cast<std::size_t>(groups[1].rm_eo - groups[1].rm_so)));
        }
        if (same(expected, user, ignore_case_)) {
            return true;
        }
    }
    return false;
}

} // namespace pam_oauth2
