#include "settings.hpp"
#include "token_kind.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;
using nlohmann::json;

namespace {

std::optional<std::string> kind_problem(json claims, std::optional<std::string> header_typ = std::nullopt,
                                        bool allow_id_tokens = false)
{
    VerifyResult result = verify_result(VerifyStatus::Valid, "");
    result.claims = std::move(claims);
    result.header_typ = std::move(header_typ);
    TokenRules rules;
    rules.allow_id_tokens = allow_id_tokens;
    return check_token_kind(result, rules);
}

} // namespace

TEST_CASE("access tokens pass, whatever marks them")
{
    CHECK_FALSE(kind_problem(json::object()));
    CHECK_FALSE(kind_problem(json{{"typ", "Bearer"}}));
    CHECK_FALSE(kind_problem(json{{"token_use", "access"}}));
    CHECK_FALSE(kind_problem(json{{"token_type", "Bearer"}}));
    CHECK_FALSE(kind_problem(json{{"token_type", "access_token"}}));
    CHECK_FALSE(kind_problem(json{{"nonce", "n"}}, std::string("at+jwt")));
    CHECK_FALSE(kind_problem(json{{"nonce", "n"}}, std::string("application/AT+JWT")));
}

TEST_CASE("ID tokens are refused unless allowed, refresh tokens always")
{
    for (const auto& claims :
         {json{{"typ", "ID"}}, json{{"typ", "id_token"}}, json{{"token_use", "id"}},
          json{{"token_type", "urn:ietf:params:oauth:token-type:id_token"}}, json{{"nonce", "n"}}}) {
        INFO(claims.dump());
        REQUIRE(kind_problem(claims));
        CHECK(kind_problem(claims)->find("ID token") != std::string::npos);
        CHECK_FALSE(kind_problem(claims, std::nullopt, true));
    }
    for (const auto& claims : {json{{"typ", "Refresh"}}, json{{"typ", "Offline"}}, json{{"token_use", "refresh"}},
                               json{{"token_type", "refresh_token"}}}) {
        INFO(claims.dump());
        REQUIRE(kind_problem(claims, std::nullopt, true));
        CHECK(kind_problem(claims, std::nullopt, true)->find("refresh token") != std::string::npos);
    }
    // Values from the token are escaped in the reason.
    CHECK(kind_problem(json{{"typ", "Refresh"}})->find("(typ Refresh)") != std::string::npos);
}
