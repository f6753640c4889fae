#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

// One HTTP/1.x request as the logout endpoint reads it: request line, headers (names lower-cased,
// a repeated header refused), and a body of exactly Content-Length bytes (no chunked encoding).
struct HttpRequestHead {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;
    std::size_t header_bytes = 0; // up to and including the blank line
};

/// The head of `received` once its blank line has come; nullopt while it has not, or when it is not
/// HTTP (the caller tells the two apart by http_head_ended).
std::optional<HttpRequestHead> parse_http_head(std::string_view received);
/// Whether the blank line that ends the head has come.
bool http_head_ended(std::string_view received);
/// Content-Length as a number; nullopt when absent or not a plain decimal.
std::optional<std::size_t> content_length(const HttpRequestHead& head);
/// Whether `received` holds a whole request: the head and as many body bytes as Content-Length says
/// (or a head that cannot be answered but with an error).
bool http_request_complete(std::string_view received);

/// The one value of `name` in an application/x-www-form-urlencoded body, decoded; nullopt when absent,
/// repeated or badly encoded.
std::optional<std::string> form_value(std::string_view body, std::string_view name);

/// A whole HTTP/1.0 response: status line, Content-Type, Content-Length, Cache-Control: no-store,
/// Connection: close, `extra` header lines (each ending in \r\n), the body.
std::string http_response(int status, std::string_view content_type, std::string_view body,
                          std::string_view extra = {});

} // namespace pam_oauth2
