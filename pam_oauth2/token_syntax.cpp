#include "token_syntax.hpp"

#include "base64url.hpp"
#include "json.hpp"

#include <algorithm>
#include <array>

namespace pam_oauth2 {
namespace {

bool is_b64token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/';
}

// Lengths at which known clients silently cut a password (DESIGN.md section 4): psql's old prompt 100-1,
// pam_exec 511, PostgreSQL <= 13 995, OpenSSH 1023, pgbouncer 2047, pamtester 4095.
constexpr std::array<std::size_t, 6> client_cut_lengths{99, 511, 995, 1023, 2047, 4095};

bool starts_like_jws(std::string_view token)
{
    // "eyJ" is base64url for '{"', the start of every JOSE header.
    return token.substr(0, 3) == "eyJ";
}

} // namespace

std::optional<std::string> check_token_syntax(std::string_view token, std::size_t max_bytes)
{
    if (token.empty()) {
        return std::string("empty token");
    }
    if (token.size() > max_bytes) {
        return "token is " + std::to_string(token.size()) +
               " bytes, more than max_token_bytes=" + std::to_string(max_bytes);
    }
    std::size_t body_end = token.size();
    while (body_end > 0 && token[body_end - 1] == '=') {
        --body_end;
    }
    if (body_end == 0) {
        return std::string("token holds only '=' characters");
    }
    const auto bad =
        std::find_if_not(token.begin(), token.begin() + static_cast<std::ptrdiff_t>(body_end), is_b64token_char);
    if (bad != token.begin() + static_cast<std::ptrdiff_t>(body_end)) {
        // The position, not the byte: the byte would be a fragment of the secret.
        return "token has a character outside the RFC 6750 token set at offset " + std::to_string(bad - token.begin());
    }
    return std::nullopt;
}

bool is_compact_jws(std::string_view token)
{
    const auto first_dot = token.find('.');
    if (first_dot == std::string_view::npos) {
        return false;
    }
    const auto second_dot = token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
        return false;
    }
    const auto header = base64url_decode(token.substr(0, first_dot));
    const auto payload = base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
    const auto signature = base64url_decode(token.substr(second_dot + 1));
    return header && payload && signature && !signature->empty() && parse_json_object(*header).has_value();
}

std::optional<std::string> truncation_hint(std::string_view token)
{
    if (starts_like_jws(token) && !is_compact_jws(token)) {
        return "token looks cut by the client: it starts like a JWT but does not split into three valid "
               "segments (" +
               std::to_string(token.size()) + " bytes arrived)";
    }
    if (std::find(client_cut_lengths.begin(), client_cut_lengths.end(), token.size()) != client_cut_lengths.end()) {
        return "token may have been cut by the client: " + std::to_string(token.size()) +
               " bytes is a known client password limit";
    }
    return std::nullopt;
}

} // namespace pam_oauth2
