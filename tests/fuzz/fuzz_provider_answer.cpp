// Userinfo and introspection answers (status from the first byte, body from the rest) through the
// verifiers and the claim rules, as the authenticator runs them.
#include "claims.hpp"
#include "configuration.hpp"
#include "introspection_verifier.hpp"
#include "scripted_http.hpp"
#include "userinfo_verifier.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using pam_oauth2::fuzzing::ScriptedHttp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) {
        return 0;
    }
    static constexpr long statuses[] = {200, 200, 200, 401, 403, 500, 302, 404};
    const long status = statuses[data[0] % 8];
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    pam_oauth2::Settings options;
    options.endpoints.userinfo_url = "https://idp.example.com/userinfo";
    options.endpoints.introspection_url = "https://idp.example.com/introspect";
    options.users.scope = {"db"};
    options.users.groups = {"dba"};
    options.users.require_claims = {{"email_verified", "true"}};
    options.token.audience = "postgres";
    options.token.issuer = "https://idp.example.com";
    ScriptedHttp http(status, body);
    const pam_oauth2::SecureString secret("token");
    const pam_oauth2::PresentedToken token(secret);
    pam_oauth2::UserinfoVerifier userinfo(options.endpoints, http);
    pam_oauth2::IntrospectionVerifier introspection(options.endpoints, http);
    for (pam_oauth2::TokenVerifier* verifier : {static_cast<pam_oauth2::TokenVerifier*>(&userinfo),
                                                static_cast<pam_oauth2::TokenVerifier*>(&introspection)}) {
        const auto result = verifier->verify(token);
        if (result.status == pam_oauth2::VerifyStatus::Valid) {
            (void)pam_oauth2::check_claims(result.claims, "alice", options.token, options.users, 1'700'000'000,
                                           pam_oauth2::VerifyMethod::Introspect);
        }
    }
    return 0;
}
