#include "text.hpp"

#include <algorithm>
#include <cstdio>

namespace pam_oauth2 {

std::string_view trim(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

std::vector<std::string> split_list(std::string_view text)
{
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const auto item =
            trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (!item.empty()) {
            items.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return items;
}

namespace {

std::string escaped(std::string_view text, bool (*needs_escape)(unsigned char))
{
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (needs_escape(byte)) {
            char code[5];
            static_cast<void>(std::snprintf(code, sizeof code, "\\x%02x", byte));
            out += code;
        } else {
            out += c;
        }
    }
    return out;
}

bool unsafe_in_reason(unsigned char byte)
{
    return byte < 0x20 || byte > 0x7e || byte == '"' || byte == '\\' || byte == '\'';
}

bool unsafe_on_terminal(unsigned char byte)
{
    return byte < 0x20 || byte > 0x7e;
}

} // namespace

std::string log_safe(std::string_view value, std::size_t limit)
{
    std::string out = escaped(value.substr(0, limit), unsafe_in_reason);
    if (value.size() > limit) {
        out += "...";
    }
    return out;
}

std::string printable(std::string_view text)
{
    return escaped(text, unsafe_on_terminal);
}

bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::string octal_mode(unsigned mode)
{
    std::string digits;
    for (int shift = 9; shift >= 0; shift -= 3) {
        digits += static_cast<char>('0' + ((mode >> shift) & 07U));
    }
    return digits;
}

namespace {

int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

} // namespace

std::optional<std::string> form_decode(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] != '%') {
            out += text[i];
        } else if (i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
            i += 2;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

} // namespace pam_oauth2
