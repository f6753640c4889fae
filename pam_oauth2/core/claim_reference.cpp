#include "claim_reference.hpp"

namespace pam_oauth2 {
namespace {

// One reference token of a JSON Pointer with ~1 and ~0 undone (RFC 6901 section 4); nullopt for a
// `~` followed by anything else.
std::optional<std::string> unescape(std::string_view token)
{
    std::string out;
    for (std::size_t i = 0; i < token.size(); ++i) {
        if (token[i] != '~') {
            out += token[i];
            continue;
        }
        if (i + 1 >= token.size() || (token[i + 1] != '0' && token[i + 1] != '1')) {
            return std::nullopt;
        }
        out += token[++i] == '0' ? '~' : '/';
    }
    return out;
}

// An array index as RFC 6901 writes it: digits, no leading zero.
std::optional<std::size_t> array_index(const std::string& token)
{
    if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0')) {
        return std::nullopt;
    }
    std::size_t index = 0;
    for (const char c : token) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        index = index * 10 + static_cast<std::size_t>(c - '0');
    }
    return index;
}

} // namespace

std::optional<std::string> check_claim_reference(std::string_view reference)
{
    if (reference.empty()) {
        return std::string("is empty");
    }
    if (reference.front() != '/') {
        return std::nullopt;
    }
    std::size_t start = 1;
    while (start <= reference.size()) {
        const auto slash = reference.find('/', start);
        const auto token = reference.substr(start, slash == std::string_view::npos ? slash : slash - start);
        if (!unescape(token)) {
            return std::string("is not a valid JSON Pointer (~ must be followed by 0 or 1)");
        }
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return std::nullopt;
}

const nlohmann::json* find_claim(const nlohmann::json& claims, std::string_view reference)
{
    if (reference.empty() || reference.front() != '/') {
        const auto found = claims.find(std::string(reference));
        return found == claims.end() ? nullptr : &*found;
    }
    const nlohmann::json* at = &claims;
    std::size_t start = 1;
    while (start <= reference.size()) {
        const auto slash = reference.find('/', start);
        const auto token = unescape(reference.substr(start, slash == std::string_view::npos ? slash : slash - start));
        if (!token) {
            return nullptr;
        }
        if (at->is_object()) {
            const auto found = at->find(*token);
            if (found == at->end()) {
                return nullptr;
            }
            at = &*found;
        } else if (at->is_array()) {
            const auto index = array_index(*token);
            if (!index || *index >= at->size()) {
                return nullptr;
            }
            at = &(*at)[*index];
        } else {
            return nullptr;
        }
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return at;
}

} // namespace pam_oauth2
