#include "http_request.hpp"

#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace pam_oauth2 {
namespace {

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view trimmed(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

bool is_token(std::string_view text)
{
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 ||
               std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    });
}

// "METHOD TARGET HTTP/1.x"
bool parse_request_line(std::string_view line, HttpRequestHead& head)
{
    const auto first = line.find(' ');
    const auto second = line.find(' ', first == std::string_view::npos ? first : first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) {
        return false;
    }
    head.method = std::string(line.substr(0, first));
    head.target = std::string(line.substr(first + 1, second - first - 1));
    const auto version = line.substr(second + 1);
    return is_token(head.method) && !head.target.empty() && (version == "HTTP/1.1" || version == "HTTP/1.0");
}

const char* status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

} // namespace

bool http_head_ended(std::string_view received)
{
    return received.find("\r\n\r\n") != std::string_view::npos;
}

std::optional<HttpRequestHead> parse_http_head(std::string_view received)
{
    const auto end = received.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        return std::nullopt;
    }
    HttpRequestHead head;
    head.header_bytes = end + 4;
    std::string_view lines = received.substr(0, end + 2);
    const auto first_end = lines.find("\r\n");
    if (!parse_request_line(lines.substr(0, first_end), head)) {
        return std::nullopt;
    }
    lines.remove_prefix(first_end + 2);
    while (!lines.empty()) {
        const auto line_end = lines.find("\r\n");
        const auto line = lines.substr(0, line_end);
        lines.remove_prefix(line_end + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
            return std::nullopt; // obsolete line folding included
        }
        if (!head.headers.emplace(lower(line.substr(0, colon)), std::string(trimmed(line.substr(colon + 1)))).second) {
            return std::nullopt;
        }
    }
    return head;
}

std::optional<std::size_t> content_length(const HttpRequestHead& head)
{
    const auto found = head.headers.find("content-length");
    if (found == head.headers.end()) {
        return std::nullopt;
    }
    const std::string& text = found->second;
    std::size_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

bool http_request_complete(std::string_view received)
{
    if (!http_head_ended(received)) {
        return false;
    }
    const auto head = parse_http_head(received);
    if (!head) {
        return true; // answered 400 at once
    }
    const auto length = content_length(*head);
    return !length || received.size() - head->header_bytes >= *length;
}

std::optional<std::string> form_value(std::string_view body, std::string_view name)
{
    std::optional<std::string> found;
    while (!body.empty()) {
        const auto amp = body.find('&');
        const auto pair = body.substr(0, amp);
        body.remove_prefix(amp == std::string_view::npos ? body.size() : amp + 1);
        const auto equals = pair.find('=');
        const auto key = form_decode(pair.substr(0, equals));
        if (!key || *key != name) {
            continue;
        }
        if (found || equals == std::string_view::npos) {
            return std::nullopt;
        }
        found = form_decode(pair.substr(equals + 1));
        if (!found) {
            return std::nullopt;
        }
    }
    return found;
}

std::string http_response(int status, std::string_view content_type, std::string_view body, std::string_view extra)
{
    std::string out = "HTTP/1.0 " + std::to_string(status) + " " + status_text(status) + "\r\n";
    if (!body.empty()) {
        out.append("Content-Type: ").append(content_type).append("\r\n");
    }
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    out.append("Cache-Control: no-store\r\nConnection: close\r\n").append(extra).append("\r\n").append(body);
    return out;
}

} // namespace pam_oauth2
