#include "config_reader.hpp"

#include "text.hpp"

namespace pam_oauth2 {
namespace {

// [kind NAME] (blanks inside the brackets allowed), or nullopt when the header is malformed.
std::optional<std::string_view> section_name(std::string_view line, std::string_view kind)
{
    if (line.back() != ']') {
        return std::nullopt;
    }
    const auto inside = trim(line.substr(1, line.size() - 2));
    if (inside.substr(0, kind.size()) != kind || inside.size() <= kind.size() ||
        (inside[kind.size()] != ' ' && inside[kind.size()] != '\t')) {
        return std::nullopt;
    }
    const auto name = trim(inside.substr(kind.size()));
    if (name.empty() || name.find_first_of(" \t[]") != std::string_view::npos) {
        return std::nullopt;
    }
    return name;
}

ConfigLine entry(int number, std::string_view line)
{
    const auto equals = line.find('=');
    ConfigLine read{number, false, trim(line.substr(0, equals)), std::nullopt};
    if (equals != std::string_view::npos) {
        read.value = trim(line.substr(equals + 1));
    }
    return read;
}

} // namespace

std::string unknown_line(const ConfigLine& line, std::string_view what)
{
    const std::string at = "line " + std::to_string(line.number);
    return line.value ? at + " is not a known " + std::string(what) : at + " is not key = value";
}

std::string_view without_comment(std::string_view line)
{
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
            return trim(line.substr(0, i));
        }
    }
    return trim(line);
}

std::variant<std::vector<ConfigLine>, ConfigSyntaxError> read_config_lines(std::string_view text,
                                                                           std::string_view section_kind)
{
    std::vector<ConfigLine> lines;
    int number = 0;
    while (!text.empty()) {
        ++number;
        const auto newline = text.find('\n');
        const auto line = without_comment(text.substr(0, newline));
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        if (line.empty()) {
            continue;
        }
        if (line.front() != '[' || section_kind.empty()) {
            lines.push_back(entry(number, line));
            continue;
        }
        const auto name = section_name(line, section_kind);
        if (!name) {
            return ConfigSyntaxError{number, "a section is written [" + std::string(section_kind) + " NAME]"};
        }
        lines.push_back(ConfigLine{number, true, *name, std::nullopt});
    }
    return lines;
}

} // namespace pam_oauth2
