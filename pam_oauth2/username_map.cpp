#include "username_map.hpp"

#include "ascii.hpp"

#include <regex.h>

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
            const int flags = REG_EXTENDED | (ignore_case ? REG_ICASE : 0);
            if (regcomp(&rule->compiled, rule->value.c_str(), flags) != 0) {
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
