#include "token_kind.hpp"
#include "settings.hpp"

#include "json.hpp"
#include "text.hpp"

#include <array>
#include <string_view>

namespace pam_oauth2 {
namespace {

enum class Kind { Access, Id, Refresh };

// What one claim's value says about the kind of token, compared ignoring ASCII case.
struct KindWord {
    std::string_view word;
    Kind kind;
};

constexpr std::array<KindWord, 10> kind_words{{
    {"id", Kind::Id},
    {"id_token", Kind::Id},
    {"urn:ietf:params:oauth:token-type:id_token", Kind::Id},
    {"refresh", Kind::Refresh},
    {"refresh_token", Kind::Refresh},
    {"offline", Kind::Refresh},
    {"urn:ietf:params:oauth:token-type:refresh_token", Kind::Refresh},
    {"logout", Kind::Refresh}, // a logout token is no access token either
    {"access", Kind::Access},
    {"access_token", Kind::Access},
}};

Kind kind_named(const std::string& value)
{
    for (const auto& known : kind_words) {
        if (equal_ignoring_ascii_case(value, known.word)) {
            return known.kind;
        }
    }
    return Kind::Access;
}

// RFC 9068: "at+jwt" (or the full media type) in the JOSE header marks a JWT access token.
bool marked_access_token(const std::optional<std::string>& header_typ)
{
    return header_typ && (equal_ignoring_ascii_case(*header_typ, "at+jwt") ||
                          equal_ignoring_ascii_case(*header_typ, "application/at+jwt"));
}

} // namespace

std::optional<std::string> check_token_kind(const VerifyResult& result, const TokenRules& rules)
{
    // Keycloak marks its tokens in the payload typ, Cognito and ORY in token_use, RFC 7662 answers in
    // token_type; each is read the same way.
    for (const char* claim : {"typ", "token_use", "token_type"}) {
        const auto value = string_member(result.claims, claim);
        if (!value) {
            continue;
        }
        switch (kind_named(*value)) {
        case Kind::Refresh:
            return "token is a refresh token (" + std::string(claim) + " " + log_safe(*value) +
                   "); only access tokens log in";
        case Kind::Id:
            if (!rules.allow_id_tokens) {
                return "token is an ID token (" + std::string(claim) + " " + log_safe(*value) +
                       "); only access tokens log in unless allow_id_tokens is set";
            }
            break;
        case Kind::Access: break;
        }
    }
    if (result.claims.contains("nonce") && !marked_access_token(result.header_typ) && !rules.allow_id_tokens) {
        return std::string("token carries a nonce, as ID tokens do, and no at+jwt header; only access tokens "
                           "log in unless allow_id_tokens is set");
    }
    return std::nullopt;
}

} // namespace pam_oauth2
