#include "jose_testkit.hpp"
#include "jwks.hpp"
#include "logout_token.hpp"

#include <catch2/catch.hpp>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;
using nlohmann::json;

namespace {

const std::string issuer = "https://idp.example.com";
constexpr long long now = 1'800'000'000LL;

Jwk jwk_from(const json& object)
{
    auto parsed = parse_jwk(object.dump());
    REQUIRE(std::holds_alternative<Jwk>(parsed));
    return std::get<Jwk>(parsed);
}

LogoutTokenPolicy policy()
{
    LogoutTokenPolicy made;
    made.issuers = {{issuer, "pam-oauth2"}, {"https://other.example.com", "other-client"}};
    return made;
}

json logout_claims()
{
    return json{{"iss", issuer},
                {"aud", "pam-oauth2"},
                {"iat", now - 10},
                {"jti", "jti-1"},
                {"sub", "id-alice"},
                {"sid", "sid-1"},
                {"events", {{backchannel_logout_event, json::object()}}}};
}

// Keys of the issuer, counting the requests (and refreshes) made for them.
struct Keys {
    explicit Keys(std::vector<Jwk> given) : keys(std::move(given)) {}
    std::vector<Jwk> keys;
    std::string error;
    int asked = 0;
    int refreshed = 0;
    std::vector<std::string> issuers;
    LogoutKeys source()
    {
        return [this](const std::string& whose, bool refresh) {
            ++asked;
            refreshed += refresh ? 1 : 0;
            issuers.push_back(whose);
            return KeySet{keys, error};
        };
    }
};

std::string refusal_of(const std::variant<LogoutClaims, LogoutRefusal>& result)
{
    const auto* refused = std::get_if<LogoutRefusal>(&result);
    return refused == nullptr ? std::string("accepted") : refused->reason;
}

} // namespace

TEST_CASE("a logout token signed by the issuer's key verifies, with its sub, sid and jti")
{
    const TestKey rsa = make_key("RS256", "rsa-1");
    Keys keys({jwk_from(rsa.jwk)});
    for (const json& header : {json::object(), json{{"typ", "logout+jwt"}}}) {
        const auto result = verify_logout_token(make_jwt(rsa, logout_claims(), header), policy(), keys.source(), now);
        REQUIRE(std::holds_alternative<LogoutClaims>(result));
        const auto& claims = std::get<LogoutClaims>(result);
        CHECK(claims.issuer == issuer);
        CHECK(claims.subject == "id-alice");
        CHECK(claims.session_id == "sid-1");
        CHECK(claims.jti == "jti-1");
        CHECK(claims.issued_at == now - 10);
    }
    CHECK(keys.issuers.front() == issuer);
    // aud as an array, sid only, sub only.
    json array_aud = logout_claims();
    array_aud["aud"] = json::array({"someone-else", "pam-oauth2"});
    CHECK(refusal_of(verify_logout_token(make_jwt(rsa, array_aud), policy(), keys.source(), now)) == "accepted");
    json sid_only = logout_claims();
    sid_only.erase("sub");
    CHECK(refusal_of(verify_logout_token(make_jwt(rsa, sid_only), policy(), keys.source(), now)) == "accepted");
    json sub_only = logout_claims();
    sub_only.erase("sid");
    CHECK(refusal_of(verify_logout_token(make_jwt(rsa, sub_only), policy(), keys.source(), now)) == "accepted");
}

TEST_CASE("logout tokens that break a rule of section 2.6 are refused, each with its reason")
{
    const TestKey rsa = make_key("RS256", "rsa-1");
    const TestKey stranger = make_key("RS256", "rsa-1"); // same kid, another key
    const TestKey ec = make_key("ES256", "ec-1");
    Keys keys({jwk_from(rsa.jwk), jwk_from(ec.jwk)});
    const auto refused = [&](const std::string& token, const LogoutTokenPolicy& rules = policy()) {
        return refusal_of(verify_logout_token(token, rules, keys.source(), now));
    };
    const auto with = [&](const std::string& claim, const json& value) {
        json claims = logout_claims();
        claims[claim] = value;
        return make_jwt(rsa, claims);
    };
    const auto without = [&](const std::string& claim) {
        json claims = logout_claims();
        claims.erase(claim);
        return make_jwt(rsa, claims);
    };

    SECTION("signature and algorithm")
    {
        CHECK(refused(make_jwt(stranger, logout_claims())) == "signature");
        const std::string input = base64url(json{{"alg", "none"}}.dump()) + "." + base64url(logout_claims().dump());
        CHECK(refused(input + ".") == "alg");
        CHECK(refused(input + "." + base64url("x")) == "alg");
        const std::string hmac = base64url(json{{"alg", "HS256"}}.dump()) + "." + base64url(logout_claims().dump());
        CHECK(refused(hmac + "." + base64url("x")) == "alg");
        LogoutTokenPolicy ec_only = policy();
        ec_only.algorithms = {"ES256"};
        CHECK(refused(make_jwt(rsa, logout_claims()), ec_only) == "alg");
        CHECK(refused(make_jwt(ec, logout_claims()), ec_only) == "accepted");
        CHECK(refused("not-a-jwt") == "malformed");
        CHECK(refused(make_jwt(rsa, logout_claims(), json{{"crit", json::array({"x"})}})) == "header");
    }
    SECTION("typ, when present, is logout+jwt")
    {
        CHECK(refused(make_jwt(rsa, logout_claims(), json{{"typ", "JWT"}})) == "typ");
        CHECK(refused(make_jwt(rsa, logout_claims(), json{{"typ", "at+jwt"}})) == "typ");
    }
    SECTION("iss among the configured issuers, aud the client")
    {
        CHECK(refused(with("iss", "https://evil.example.com")) == "iss");
        CHECK(refused(without("iss")) == "iss");
        CHECK(refused(with("aud", "someone-else")) == "aud");
        CHECK(refused(with("aud", "other-client")) == "aud"); // the other issuer's client
        CHECK(refused(without("aud")) == "aud");
    }
    SECTION("iat within the window, exp when present")
    {
        CHECK(refused(with("iat", now - 300 - 60 - 1)) == "iat");
        CHECK(refused(with("iat", now - 300)) == "accepted");
        CHECK(refused(with("iat", now + 61)) == "iat");
        CHECK(refused(with("iat", "now")) == "iat");
        CHECK(refused(without("iat")) == "iat");
        CHECK(refused(with("exp", now - 61)) == "exp");
        CHECK(refused(with("exp", now + 120)) == "accepted");
    }
    SECTION("events, nonce, sub or sid, jti")
    {
        CHECK(refused(without("events")) == "events");
        CHECK(refused(with("events", json{{backchannel_logout_event, "yes"}})) == "events");
        CHECK(refused(with("events", json{{"http://schemas.openid.net/event/other", json::object()}})) == "events");
        CHECK(refused(with("events", json::array())) == "events");
        CHECK(refused(with("nonce", "n-1")) == "nonce");
        json anonymous = logout_claims();
        anonymous.erase("sub");
        anonymous.erase("sid");
        CHECK(refused(make_jwt(rsa, anonymous)) == "sub");
        CHECK(refused(with("sub", 42)) == "sub");
        CHECK(refused(with("sid", json::array())) == "sid");
        CHECK(refused(without("jti")) == "jti");
        CHECK(refused(with("jti", "")) == "jti");
    }
}

TEST_CASE("a logout token's keys come from its issuer, an unknown kid refreshes once, no keys is unavailable")
{
    const TestKey rsa = make_key("RS256", "rsa-1");
    const TestKey rotated = make_key("RS256", "rsa-2");
    Keys keys({jwk_from(rsa.jwk)});
    CHECK(refusal_of(verify_logout_token(make_jwt(rotated, logout_claims()), policy(), keys.source(), now)) ==
          "signature");
    CHECK(keys.refreshed == 1);
    keys.error = "JWKS fetch failed";
    const auto result = verify_logout_token(make_jwt(rsa, logout_claims()), policy(), keys.source(), now);
    REQUIRE(std::holds_alternative<LogoutRefusal>(result));
    CHECK(std::get<LogoutRefusal>(result).reason == "keys");
    CHECK(std::get<LogoutRefusal>(result).unavailable);
    // A foreign issuer is refused before any key is asked for.
    keys.asked = 0;
    json foreign = logout_claims();
    foreign["iss"] = "https://evil.example.com";
    CHECK(refusal_of(verify_logout_token(make_jwt(rsa, foreign), policy(), keys.source(), now)) == "iss");
    CHECK(keys.asked == 0);
}
