#include "authenticator.hpp"
#include "base64url.hpp"
#include "claims.hpp"
#include "configuration.hpp"
#include "fakes.hpp"
#include "jose_testkit.hpp"
#include "jws.hpp"
#include "jwt_verifier.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdlib>

using namespace pam_oauth2;
using namespace pam_oauth2::testing;
using nlohmann::json;

namespace {

const std::string issuer = "https://idp.example.com";

Jwk jwk_from(const json& object)
{
    auto parsed = parse_jwk(object.dump());
    REQUIRE(std::holds_alternative<Jwk>(parsed));
    return std::get<Jwk>(parsed);
}

std::optional<std::string> verify_compact(const std::string& alg, const Jwk& key, const std::string& token)
{
    auto jws = parse_compact_jws(token);
    REQUIRE(std::holds_alternative<CompactJws>(jws));
    auto& parts = std::get<CompactJws>(jws);
    return verify_signature(alg, key, parts.signing_input, parts.signature.view());
}

// A fixed key set that counts refreshes.
class FixedKeys final : public KeySource {
public:
    explicit FixedKeys(std::vector<Jwk> keys) : keys_(std::move(keys)) {}
    KeySet keys(bool refresh) override
    {
        refreshes += refresh ? 1 : 0;
        KeySet set;
        set.keys = keys_;
        set.error = error;
        return set;
    }
    int refreshes = 0;
    std::string error;

private:
    std::vector<Jwk> keys_;
};

json claims_for(const std::string& user)
{
    return json{{"iss", issuer},          {"sub", "id-" + user},    {"preferred_username", user}, {"aud", "postgres"},
                {"exp", 4'000'000'000LL}, {"iat", 1'700'000'000LL}, {"scope", "openid db"}};
}

Settings jwt_options()
{
    Settings options;
    options.verify = {VerifyMethod::Jwt};
    options.token.issuer = issuer;
    return options;
}

} // namespace

TEST_CASE("RFC 7515 A.3 (ES256), A.4 (ES512) and RFC 8037 A.4 (Ed25519) vectors verify")
{
    const Jwk es256 = jwk_from({{"kty", "EC"},
                                {"crv", "P-256"},
                                {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                                {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}});
    const std::string a3 =
        "eyJhbGciOiJFUzI1NiJ9."
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    CHECK_FALSE(verify_compact("ES256", es256, a3));
    CHECK(verify_compact("ES256", es256, a3.substr(0, a3.size() - 10) + "A" + a3.substr(a3.size() - 9)));

    const Jwk es512 =
        jwk_from({{"kty", "EC"},
                  {"crv", "P-521"},
                  {"x", "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk"},
                  {"y", "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}});
    const std::string a4 =
        "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA."
        "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwF"
        "KdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";
    // The A.4 payload is the string "Payload", not JSON: check the signature alone.
    const auto dot = a4.rfind('.');
    CHECK_FALSE(verify_signature("ES512", es512, std::string_view(a4).substr(0, dot),
                                 *base64url_decode(std::string_view(a4).substr(dot + 1))));

    const Jwk ed = jwk_from({{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}});
    const std::string rfc8037 = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    const std::string ed_signature =
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    CHECK_FALSE(verify_signature("EdDSA", ed, rfc8037, *base64url_decode(ed_signature)));
    CHECK(verify_signature("EdDSA", ed, rfc8037 + "x", *base64url_decode(ed_signature)));
}

TEST_CASE("every allowed algorithm verifies keys generated at test time, and only with the right key")
{
    for (const std::string alg :
         {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}) {
        SECTION(alg)
        {
            const TestKey key = make_key(alg, "k-" + alg);
            const TestKey other = make_key(alg, "k-" + alg);
            FixedKeys keys({jwk_from(key.jwk)});
            const Settings options = jwt_options();
            JwtVerifier verifier(options.jwt, keys);
            const auto token = make_jwt(key, claims_for("alice"));
            const auto good = verifier.verify(OwnedToken(token));
            CHECK(good.status == VerifyStatus::Valid);
            CHECK(good.claims["preferred_username"] == "alice");
            CHECK(good.expires_at == 4'000'000'000LL);

            const auto forged = verifier.verify(OwnedToken(make_jwt(other, claims_for("alice"))));
            CHECK(forged.status == VerifyStatus::Invalid);
            CHECK(forged.detail.find("signature does not verify") != std::string::npos);
        }
    }
}

TEST_CASE("JOSE attacks and malformed tokens are refused")
{
    const TestKey rsa = make_key("RS256", "rsa-1");
    const TestKey ec = make_key("ES256", "ec-1");
    FixedKeys keys({jwk_from(rsa.jwk), jwk_from(ec.jwk)});
    const Settings options = jwt_options();
    JwtVerifier verifier(options.jwt, keys);
    const auto refused = [&](const std::string& token) {
        const auto result = verifier.verify(OwnedToken(token));
        CHECK(result.status == VerifyStatus::Invalid);
        return result.detail;
    };
    const std::string good = make_jwt(rsa, claims_for("alice"));
    REQUIRE(verifier.verify(OwnedToken(good)).status == VerifyStatus::Valid);

    SECTION("alg none")
    {
        const auto header = base64url(R"({"alg":"none","kid":"rsa-1"})");
        const auto token = header + "." + base64url(claims_for("alice").dump()) + ".";
        CHECK(refused(token).find("alg none") != std::string::npos);
        CHECK(refused(header + "." + base64url(claims_for("alice").dump()) + ".AAAA").find("alg none") !=
              std::string::npos);
    }
    SECTION("HS256 keyed with the RSA public key")
    {
        BIO* pem = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(pem, rsa.key.get());
        char* pem_data = nullptr;
        const long pem_size = BIO_get_mem_data(pem, &pem_data);
        const std::string input =
            base64url(R"({"alg":"HS256","kid":"rsa-1"})") + "." + base64url(claims_for("alice").dump());
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_size = 0;
        HMAC(EVP_sha256(), pem_data, static_cast<int>(pem_size), reinterpret_cast<const unsigned char*>(input.data()),
             input.size(), mac, &mac_size);
        BIO_free(pem);
        const auto token = input + "." + base64url(std::string(reinterpret_cast<char*>(mac), mac_size));
        CHECK(refused(token).find("HMAC") != std::string::npos);
    }
    SECTION("alg outside algorithms=")
    {
        Settings narrow = jwt_options();
        narrow.jwt.algorithms = {"ES256"};
        JwtVerifier strict(narrow.jwt, keys);
        const auto result = strict.verify(OwnedToken(good));
        CHECK(result.status == VerifyStatus::Invalid);
        CHECK(result.detail.find("not in algorithms=") != std::string::npos);
    }
    SECTION("unknown kid refreshes the keys once, then refuses")
    {
        json header{{"alg", "RS256"}, {"kid", "rotated-away"}};
        CHECK(refused(make_jwt(rsa, claims_for("alice"), header)).find("no key with kid rotated-away") !=
              std::string::npos);
        CHECK(keys.refreshes == 1);
    }
    SECTION("a key of the wrong type for alg")
    {
        json header{{"alg", "RS256"}, {"kid", "ec-1"}};
        CHECK(refused(make_jwt(rsa, claims_for("alice"), header)).find("does not fit alg RS256") != std::string::npos);
    }
    SECTION("a signature bit flipped")
    {
        const auto dot = good.rfind('.');
        auto signature = *base64url_decode(std::string_view(good).substr(dot + 1));
        signature[10] = static_cast<char>(signature[10] ^ 0x01);
        CHECK(refused(good.substr(0, dot + 1) + base64url(signature)).find("signature does not verify") !=
              std::string::npos);
    }
    SECTION("header and payload swapped")
    {
        const auto first = good.find('.');
        const auto second = good.find('.', first + 1);
        const auto swapped =
            good.substr(first + 1, second - first - 1) + "." + good.substr(0, first) + good.substr(second);
        CHECK_FALSE(refused(swapped).empty());
    }
    SECTION("truncated")
    {
        CHECK(refused(good.substr(0, good.size() - 10)).find("signature does not verify") != std::string::npos);
        CHECK(refused(good.substr(0, good.rfind('.'))).find("malformed") != std::string::npos);
    }
    SECTION("Microsoft Graph token")
    {
        json header{{"alg", "RS256"}, {"kid", "rsa-1"}, {"nonce", "Xq7l9"}, {"typ", "JWT"}};
        CHECK(refused(make_jwt(rsa, claims_for("alice"), header)).find("token is a Microsoft Graph token") == 0);
    }
    SECTION("crit header")
    {
        json header{{"alg", "RS256"}, {"kid", "rsa-1"}, {"crit", json::array({"exp"})}, {"exp", 1}};
        CHECK(refused(make_jwt(rsa, claims_for("alice"), header)).find("crit") != std::string::npos);
    }
    SECTION("wrong issuer and missing exp")
    {
        auto claims = claims_for("alice");
        claims["iss"] = "https://evil.example.com";
        // The issuer is checked in one place, with the other claim rules that run after every method.
        const auto verified = verifier.verify(OwnedToken(make_jwt(rsa, claims)));
        REQUIRE(verified.status == VerifyStatus::Valid);
        const auto wrong_issuer =
            check_claims(verified.claims, "alice", options.token, options.users, 1'700'000'000, VerifyMethod::Jwt);
        REQUIRE(wrong_issuer);
        CHECK(wrong_issuer->find("issuer") != std::string::npos);
        claims = claims_for("alice");
        claims.erase("exp");
        CHECK(refused(make_jwt(rsa, claims)).find("no numeric exp") != std::string::npos);
    }
    SECTION("keys unavailable")
    {
        keys.error = "JWKS https://idp.example.com/jwks unreachable";
        const auto result = verifier.verify(OwnedToken(good));
        CHECK(result.status == VerifyStatus::Unavailable);
        CHECK(result.detail.find("unreachable") != std::string::npos);
    }
}

TEST_CASE("JWKS documents: unusable keys are skipped, hostile documents refused")
{
    const TestKey rsa = make_key("RS256", "rsa-1");
    json document{{"keys", json::array({rsa.jwk})}};
    auto enc = rsa.jwk;
    enc["use"] = "enc";
    enc["kid"] = "enc-1";
    document["keys"].push_back(enc);
    document["keys"].push_back(json{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}});
    document["keys"].push_back(json{{"kty", "EC"}, {"crv", "P-256"}, {"x", "AAAA"}, {"y", "AAAA"}});
    document["keys"].push_back(json{{"kty", "RSA"}, {"n", base64url(std::string(128, '\x01'))}, {"e", "AQAB"}});
    auto parsed = parse_jwks(document.dump());
    REQUIRE(std::holds_alternative<std::vector<Jwk>>(parsed));
    REQUIRE(std::get<std::vector<Jwk>>(parsed).size() == 1);
    CHECK(std::get<std::vector<Jwk>>(parsed)[0].kid == "rsa-1");

    CHECK(std::holds_alternative<std::string>(parse_jwks("[]")));
    CHECK(std::holds_alternative<std::string>(parse_jwks(R"({"keys":{}})")));
    CHECK(std::holds_alternative<std::string>(parse_jwks(R"({"keys":[]})")));
    json many{{"keys", json::array()}};
    for (int i = 0; i < 65; ++i) {
        many["keys"].push_back(rsa.jwk);
    }
    CHECK(std::get<std::string>(parse_jwks(many.dump())).find("more than 64") != std::string::npos);

    // A point not on the curve must never become a key.
    auto off_curve = make_key("ES256", "ec").jwk;
    auto y = *base64url_decode(off_curve["y"].get<std::string>());
    y[31] = static_cast<char>(y[31] ^ 0x01);
    off_curve["y"] = base64url(y);
    CHECK(std::holds_alternative<std::string>(parse_jwk(off_curve.dump())));
}

namespace {

// The whole jwt path through decide_login: discovery and JWKS served by a fake transport,
// kept in a real disk cache in a temporary directory.
struct JwtHarness {
    TestKey key = make_key("RS256", "rsa-1");
    Configuration configuration{jwt_options(), std::nullopt, {}};
    Settings& options = configuration.settings;
    int fetches = 0;
    std::vector<std::string> urls;
    bool idp_down = false;
    TempDir directory;
    long long now = 1'700'000'000;

    JwtHarness()
    {
        options.cache.dir = directory.path;
        options.token.audience = "postgres";
    }

    Decision run(const std::string& user, const std::string& token)
    {
        const HttpClientFactory factory = [this](const HttpSettings&) -> std::unique_ptr<HttpClient> {
            return std::make_unique<FakeHttpClient>([this](const FakeHttpClient::Seen& seen) {
                ++fetches;
                urls.push_back(seen.url);
                if (idp_down) {
                    return transport_failure("Couldn't connect to server");
                }
                if (seen.url == issuer + "/.well-known/openid-configuration") {
                    return answer(200, json{{"issuer", issuer}, {"jwks_uri", issuer + "/jwks"}}.dump());
                }
                if (seen.url == issuer + "/jwks") {
                    return answer(200, jwks_of({&key}));
                }
                if (seen.url == issuer + "/userinfo") {
                    // Like most providers' userinfo: lenient about the token's encoding.
                    return answer(200, R"({"preferred_username":"alice"})");
                }
                return answer(404, "");
            });
        };
        const Logger logger([](int, const std::string&) {});
        return decide_login(
            user, SecureString(token), configuration, factory, [this] { return now; }, logger);
    }

    std::string token(json claims) const { return make_jwt(key, std::move(claims)); }
    json claims(const std::string& user) const
    {
        auto c = claims_for(user);
        c["exp"] = now + 300;
        c["iat"] = now;
        return c;
    }
};

} // namespace

TEST_CASE("jwt logins: discovery and JWKS are fetched once, then served from the disk cache, stale only while the "
          "provider fails")
{
    JwtHarness h;
    const auto first = h.run("alice", h.token(h.claims("alice")));
    CHECK(first.outcome == Outcome::Granted);
    CHECK(first.method == "jwt");
    CHECK(first.valid_until == h.now + 300 + 60);
    CHECK(h.fetches == 2);
    const auto second = h.run("alice", h.token(h.claims("alice")));
    CHECK(second.outcome == Outcome::Granted);
    CHECK(h.fetches == 2);

    h.idp_down = true;
    CHECK(h.run("alice", h.token(h.claims("alice"))).outcome == Outcome::Granted);
    h.now += jwks_cache_seconds + 1; // stale, but within stale-if-error: the outage is bridged
    CHECK(h.run("alice", h.token(h.claims("alice"))).outcome == Outcome::Granted);
    h.now += jwks_stale_if_error_seconds;
    const auto stale = h.run("alice", h.token(h.claims("alice")));
    CHECK(stale.outcome == Outcome::Unavailable);
    CHECK(stale.reason.find("Couldn't connect") != std::string::npos);
}

TEST_CASE("jwt logins: the authorization checks run on the verified payload")
{
    JwtHarness h;
    auto claims = h.claims("alice");
    CHECK(h.run("bob", h.token(claims)).reason == "claim preferred_username is 'alice', PAM user is 'bob'");

    claims["exp"] = h.now - 61;
    CHECK(h.run("alice", h.token(claims)).reason.find("expired") != std::string::npos);
    claims = h.claims("alice");
    claims["nbf"] = h.now + 600;
    CHECK(h.run("alice", h.token(claims)).reason.find("nbf") != std::string::npos);
    claims = h.claims("alice");
    claims["iat"] = h.now + 600;
    CHECK(h.run("alice", h.token(claims)).reason.find("iat") != std::string::npos);
    claims = h.claims("alice");
    claims["aud"] = "other-api";
    CHECK(h.run("alice", h.token(claims)).reason == "audience postgres not in the token's aud");

    h.options.users.scope = {"db", "admin"};
    CHECK(h.run("alice", h.token(h.claims("alice"))).reason == "scope admin is missing");
    h.options.users.scope = {"db"};
    h.options.users.groups = {"dba"};
    auto member = h.claims("alice");
    member["groups"] = json::array({"dev"});
    CHECK(h.run("alice", h.token(member)).reason.find("none of the groups") != std::string::npos);
    member["groups"] = json::array({"dev", "dba"});
    CHECK(h.run("alice", h.token(member)).outcome == Outcome::Granted);
}

TEST_CASE("jwt,userinfo: opaque tokens go to userinfo, a refused JWT never does")
{
    JwtHarness h;
    h.options.verify = {VerifyMethod::Jwt, VerifyMethod::Userinfo};
    h.options.endpoints.userinfo_url = issuer + "/userinfo";
    h.options.token.audience.clear();
    const auto opaque = h.run("alice", "opaque-token-value");
    CHECK(opaque.method == "userinfo");
    auto claims = h.claims("alice");
    claims["exp"] = h.now - 3600;
    const auto expired = h.run("alice", h.token(claims));
    CHECK(expired.method == "jwt");
    CHECK(expired.outcome == Outcome::Denied);
}

TEST_CASE("review #1: a JWT that fails strict parsing is refused by jwt, never passed on to userinfo")
{
    JwtHarness h;
    h.options.verify = {VerifyMethod::Jwt, VerifyMethod::Userinfo};
    h.options.endpoints.userinfo_url = issuer + "/userinfo";
    auto claims = h.claims("alice");
    claims["aud"] = "other-spa";
    const std::string other_app = h.token(claims);
    std::string flipped = other_app;
    // Set the unused low bits of the last base64url character: lenient decoders still accept it.
    const char last = flipped.back();
    flipped.back() = last == 'A' ? 'B' : last == 'Q' ? 'R' : last == 'g' ? 'h' : last == 'w' ? 'x' : last;
    for (const std::string& tampered : {other_app + "==", flipped, other_app + "."}) {
        INFO(tampered.substr(tampered.size() - 4));
        const auto decision = h.run("alice", tampered);
        CHECK(decision.outcome == Outcome::Denied);
        CHECK(decision.method == "jwt");
    }
    CHECK(std::find(h.urls.begin(), h.urls.end(), issuer + "/userinfo") == h.urls.end());
    // The untampered token reaches jwt too, and the audience rule refuses it there.
    CHECK(h.run("alice", other_app).reason == "audience postgres not in the token's aud");
    CHECK(h.run("alice", "opaque-token").method == "userinfo");
}

TEST_CASE("review #4: ID tokens and refresh tokens never log in as access tokens")
{
    JwtHarness h;
    const auto with = [&](const char* name, json value, json header = json{{"alg", "RS256"}, {"kid", "rsa-1"}}) {
        auto claims = h.claims("alice");
        claims[name] = std::move(value);
        return h.run("alice", make_jwt(h.key, claims, header));
    };
    CHECK(with("typ", "ID").reason.find("token is an ID token (typ ID)") == 0);
    CHECK(with("typ", "id_token").outcome == Outcome::Denied);
    CHECK(with("token_use", "id").reason.find("token is an ID token (token_use id)") == 0);
    CHECK(with("typ", "Refresh").reason.find("token is a refresh token") == 0);
    CHECK(with("nonce", "n-0S6").reason.find("nonce") != std::string::npos);
    // An RFC 9068 access token may carry a nonce; the at+jwt header says what it is.
    CHECK(with("nonce", "n-0S6", json{{"alg", "RS256"}, {"kid", "rsa-1"}, {"typ", "at+jwt"}}).outcome ==
          Outcome::Granted);
    CHECK(with("typ", "Bearer").outcome == Outcome::Granted);
    CHECK(with("token_use", "access").outcome == Outcome::Granted);

    h.options.token.allow_id_tokens = true;
    CHECK(with("typ", "ID").outcome == Outcome::Granted);
    CHECK(with("nonce", "n-0S6").outcome == Outcome::Granted);
    CHECK(with("typ", "Refresh").outcome == Outcome::Denied);
}

TEST_CASE("review #8: attacker-sized and attacker-shaped header values are capped and escaped")
{
    JwtHarness h;
    const std::string huge(46 * 1024, 'k');
    auto decision = h.run("alice", make_jwt(h.key, h.claims("alice"), json{{"alg", "RS256"}, {"kid", huge}}));
    CHECK(decision.outcome == Outcome::Denied);
    CHECK(decision.reason.size() < 200);
    decision = h.run("alice", make_jwt(h.key, h.claims("alice"), json{{"alg", "RS256"}, {"kid", "a\x1b[2J\nb"}}));
    CHECK(decision.reason.find('\x1b') == std::string::npos);
    CHECK(decision.reason.find('\n') == std::string::npos);
    CHECK(decision.reason.find("a\\x1b[2J\\x0ab") != std::string::npos);
    const std::string alg_header = base64url(json{{"alg", std::string(46 * 1024, 'A')}}.dump()) + "." +
                                   base64url(h.claims("alice").dump()) + ".AAAA";
    CHECK(h.run("alice", alg_header).reason.size() < 200);
}

TEST_CASE("review #17: a JOSE header or payload that repeats a key is refused")
{
    JwtHarness h;
    const std::string payload = base64url(h.claims("alice").dump());
    const std::string doubled_alg =
        base64url(R"({"alg":"none","alg":"RS256","kid":"rsa-1"})") + "." + payload + ".AAAA";
    CHECK(h.run("alice", doubled_alg).reason.find("malformed JWT: header is not a JSON object") == 0);
    const std::string good = h.token(h.claims("alice"));
    const auto first_dot = good.find('.');
    const auto second_dot = good.find('.', first_dot + 1);
    std::string claims = h.claims("alice").dump();
    claims.insert(claims.size() - 1, R"(,"preferred_username":"root")");
    const std::string doubled_user = good.substr(0, first_dot) + "." + base64url(claims) + good.substr(second_dot);
    CHECK(h.run("alice", doubled_user).reason.find("malformed JWT: payload is not a JSON object") == 0);
}

TEST_CASE("review #20: RSA keys with absurd moduli or exponents are refused")
{
    const TestKey rsa = make_key("RS256", "rsa-1");
    auto key = rsa.jwk;
    for (const auto& [exponent, why] :
         {std::pair<std::string, const char*>{"AQ", "e = 1"}, {"Ag", "e = 2"}, {"AQAA", "e = 65536"}}) {
        INFO(why);
        key["e"] = base64url(*base64url_decode(exponent));
        auto parsed = parse_jwk(key.dump());
        REQUIRE(std::holds_alternative<std::string>(parsed));
        CHECK(std::get<std::string>(parsed).find("exponent") != std::string::npos);
    }
    key = rsa.jwk;
    key["n"] = base64url(std::string(16384 / 8 + 1, '\xff'));
    auto huge = parse_jwk(key.dump());
    REQUIRE(std::holds_alternative<std::string>(huge));
    CHECK(std::get<std::string>(huge) == "RSA key longer than 16384 bits");
    CHECK(std::holds_alternative<Jwk>(parse_jwk(rsa.jwk.dump())));
}

TEST_CASE("several issuers: the token's iss picks its section, whose keys and rules then judge it")
{
    const TestKey staff_key = make_key("RS256", "staff-1");
    const TestKey contractor_key = make_key("ES256", "kc-1");
    const std::string staff = "https://staff.example.com";
    const std::string contractors = "https://kc.example.com/realms/contractors";
    const TempDir directory;
    std::vector<std::string> fetched;
    const HttpClientFactory factory = [&](const HttpSettings&) -> std::unique_ptr<HttpClient> {
        return std::make_unique<FakeHttpClient>([&](const FakeHttpClient::Seen& seen) {
            fetched.push_back(seen.url);
            for (const auto& [iss, key] :
                 {std::pair<std::string, const TestKey*>{staff, &staff_key}, {contractors, &contractor_key}}) {
                if (seen.url == iss + "/.well-known/openid-configuration") {
                    return answer(200, json{{"issuer", iss}, {"jwks_uri", iss + "/jwks"}}.dump());
                }
                if (seen.url == iss + "/jwks") {
                    return answer(200, jwks_of({key}));
                }
            }
            return answer(404, "");
        });
    };
    const auto issuer_settings = [&](const std::string& iss, const std::string& audience, const std::string& claim) {
        Settings settings = jwt_options();
        settings.cache.dir = directory.path;
        settings.token.issuer = iss;
        settings.token.audience = audience;
        settings.users.username_claim = claim;
        return settings;
    };
    Configuration configuration{jwt_options(), std::nullopt, {}};
    configuration.settings.token.issuer.clear();
    configuration.settings.cache.dir = directory.path;
    configuration.issuers.push_back({"staff", issuer_settings(staff, "postgres", "preferred_username"), std::nullopt});
    configuration.issuers.push_back(
        {"contractors", issuer_settings(contractors, "pg-contractors", "email"), std::nullopt});
    const long long now = 1'700'000'000;
    const Logger quiet([](int, const std::string&) {});
    const auto run = [&](const std::string& user, const std::string& token) {
        return decide_login(
            user, SecureString(token), configuration, factory, [&] { return now; }, quiet);
    };
    const auto claims = [&](const std::string& iss, const std::string& aud) {
        auto c = claims_for("alice");
        c["iss"] = iss;
        c["aud"] = aud;
        c["email"] = "carol@contractor.example";
        c["exp"] = now + 300;
        return c;
    };

    CHECK(run("alice", make_jwt(staff_key, claims(staff, "postgres"))).outcome == Outcome::Granted);
    CHECK(run("carol@contractor.example", make_jwt(contractor_key, claims(contractors, "pg-contractors"))).outcome ==
          Outcome::Granted);
    // Each section's rules: the staff audience does not open the contractors' door, nor the reverse.
    CHECK(run("carol@contractor.example", make_jwt(contractor_key, claims(contractors, "postgres"))).reason ==
          "audience pg-contractors not in the token's aud");
    // Each section's keys: a token naming the staff issuer but signed by the contractors' key fails.
    const auto forged = run("alice", make_jwt(contractor_key, claims(staff, "postgres")));
    CHECK(forged.outcome == Outcome::Denied);
    CHECK(forged.method == "jwt");
    const auto unknown = run("alice", make_jwt(staff_key, claims("https://evil.example.com", "postgres")));
    CHECK(unknown.reason == "token issuer 'https://evil.example.com' matches no [issuer] section");
    CHECK(std::none_of(fetched.begin(), fetched.end(),
                       [](const std::string& url) { return url.find("evil") != std::string::npos; }));
}

TEST_CASE("Entra multi-tenant: an issuer template with {tenantid} accepts the listed tenants only")
{
    JwtHarness h;
    const std::string tenant_a = "11111111-2222-3333-4444-555555555555";
    const std::string tenant_b = "99999999-8888-7777-6666-555555555555";
    h.options.token.issuer = issuer + "/{tenantid}/v2.0";
    h.options.token.tenants = {tenant_a};
    h.options.jwt.jwks_url = issuer + "/jwks";
    const auto from = [&](const std::string& tid, const std::string& iss_tenant) {
        auto claims = h.claims("alice");
        claims["tid"] = tid;
        claims["iss"] = issuer + "/" + iss_tenant + "/v2.0";
        return h.run("alice", h.token(claims));
    };
    CHECK(from(tenant_a, tenant_a).outcome == Outcome::Granted);
    CHECK(from(tenant_b, tenant_b).reason == "tenant '" + tenant_b + "' is not in tenants=");
    // The tid must be the tenant the issuer names.
    const auto other_tenant = from(tenant_a, tenant_b);
    CHECK(other_tenant.outcome == Outcome::Denied);
    CHECK(other_tenant.reason.find("issuer is '" + issuer + "/" + tenant_b) == 0);
    CHECK(other_tenant.reason.find("expected '" + issuer + "/" + tenant_a + "/v2.0'") != std::string::npos);
    auto no_tid = h.claims("alice");
    no_tid["iss"] = issuer + "/" + tenant_a + "/v2.0";
    CHECK(h.run("alice", h.token(no_tid)).reason == "tenant '(missing)' is not in tenants=");
}
