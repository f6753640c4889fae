#include "token_syntax.hpp"

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

std::optional<std::string> truncation_hint(const PresentedToken& token)
{
    if (token.starts_like_jws() && token.jws() == nullptr) {
        return "token looks cut by the client: it starts like a JWT but does not split into three valid "
               "segments (" +
               std::to_string(token.view().size()) + " bytes arrived)";
    }
    if (std::find(client_cut_lengths.begin(), client_cut_lengths.end(), token.view().size()) !=
        client_cut_lengths.end()) {
        return "token may have been cut by the client: " + std::to_string(token.view().size()) +
               " bytes is a known client password limit";
    }
    return std::nullopt;
}

} // namespace pam_oauth2
