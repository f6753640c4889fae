#include "logger.hpp"
#include "token_identity.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace pam_oauth2;

TEST_CASE("token identity: the claims that say who and what, each only when of the right type")
{
    const auto claims = nlohmann::json::parse(R"({"iss":"https://a","sub":"alice-id","sid":"s1","client_id":"c1",
        "aud":["db","api",7],"jti":"abc","exp":1700000000})");
    const TokenIdentity identity = identity_of(claims, "https://configured");
    CHECK(identity.issuer == "https://a");
    CHECK(identity.subject == "alice-id");
    CHECK(identity.session_id == "s1");
    CHECK(identity.client_id == "c1");
    CHECK(identity.audience == std::vector<std::string>{"db", "api"});
    CHECK(identity.jti_fingerprint == token_fingerprint("abc"));
    CHECK(identity.jti_fingerprint.find("abc") == std::string::npos);
    CHECK(identity.expires_at == 1700000000);

    const auto odd =
        nlohmann::json::parse(R"({"iss":5,"sub":["x"],"azp":"p","client_id":"c","aud":"db","exp":"soon"})");
    const TokenIdentity other = identity_of(odd, "https://configured");
    CHECK(other.issuer == "https://configured");
    CHECK(other.subject.empty());
    CHECK(other.client_id == "p"); // azp first
    CHECK(other.audience == std::vector<std::string>{"db"});
    CHECK(other.jti_fingerprint.empty());
    CHECK_FALSE(other.expires_at);
    CHECK(identity_of(nlohmann::json::array(), "https://c").issuer == "https://c");
}
