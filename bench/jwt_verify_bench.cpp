// In-process cost of verifying one JWT access token (signature + claims) with keys already loaded:
// the floor under a `verify=jwt` login once the JWKS is cached; then the claim rules alone (issuer,
// audience, username, scope, groups, a required claim) for a token that passes and one that fails.
//
//   jwt_verify_bench [iterations]
#include "claims.hpp"
#include "configuration.hpp"
#include "jose_testkit.hpp"
#include "jwt_verifier.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <variant>

namespace {

class FixedKeys final : public pam_oauth2::KeySource {
public:
    explicit FixedKeys(pam_oauth2::Jwk key) { set_.keys.push_back(std::move(key)); }
    pam_oauth2::KeySet keys(bool) override { return set_; }

private:
    pam_oauth2::KeySet set_;
};

} // namespace

int main(int argc, char** argv)
{
    const long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 5000;
    std::printf("| alg | verify + claims, us per token |\n|---|---:|\n");
    for (const char* alg : {"RS256", "PS256", "ES256", "ES384", "EdDSA"}) {
        const auto key = pam_oauth2::testing::make_key(alg, "k");
        auto jwk = std::get<pam_oauth2::Jwk>(pam_oauth2::parse_jwk(key.jwk.dump()));
        FixedKeys keys(jwk);
        pam_oauth2::Settings settings;
        settings.token.issuer = "https://idp.example.com";
        settings.token.audience = "postgres";
        const nlohmann::json claims{{"iss", settings.token.issuer},  {"aud", "postgres"},
                                    {"preferred_username", "alice"}, {"exp", 4'000'000'000LL},
                                    {"iat", 1'700'000'000LL},        {"scope", "openid db"}};
        const pam_oauth2::SecureString token(pam_oauth2::testing::make_jwt(key, claims));
        pam_oauth2::JwtVerifier verifier(settings.jwt, keys);
        const auto started = std::chrono::steady_clock::now();
        for (long i = 0; i < iterations; ++i) {
            // As in a login: the token is parsed once, then verified, then the claim rules run.
            const pam_oauth2::PresentedToken presented(token);
            const auto result = verifier.verify(presented);
            if (result.status != pam_oauth2::VerifyStatus::Valid ||
                pam_oauth2::check_claims(result.claims, "alice", settings.token, settings.users, 1'700'000'000,
                                         pam_oauth2::VerifyMethod::Jwt)) {
                std::fprintf(stderr, "%s: verification failed\n", alg);
                return 1;
            }
        }
        const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count();
        std::printf("| %s | %.1f |\n", alg, us / static_cast<double>(iterations));
    }
    std::printf("\n| claim rules | ns per login |\n|---|---:|\n");
    pam_oauth2::Settings settings;
    settings.token.issuer = "https://idp.example.com";
    settings.token.audience = "postgres";
    settings.users.scope = {"db"};
    settings.users.groups = {"dba"};
    settings.users.require_claims = {{"email_verified", "true"}};
    const nlohmann::json claims{{"iss", settings.token.issuer}, {"aud", "postgres"},    {"preferred_username", "alice"},
                                {"exp", 4'000'000'000LL},       {"scope", "openid db"}, {"groups", {"dev", "dba"}},
                                {"email_verified", true}};
    for (const char* user : {"alice", "bob"}) {
        const long rounds = iterations * 100;
        long refused = 0;
        const auto started = std::chrono::steady_clock::now();
        for (long i = 0; i < rounds; ++i) {
            refused += pam_oauth2::check_claims(claims, user, settings.token, settings.users, 1'700'000'000,
                                                pam_oauth2::VerifyMethod::Jwt)
                           ? 1
                           : 0;
        }
        const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - started).count();
        std::printf("| %s (%s) | %.0f |\n", user, refused == 0 ? "all hold" : "username fails",
                    ns / static_cast<double>(rounds));
    }
    return 0;
}
