// The whole decision, as pam_sm_authenticate makes it, with a scripted identity provider and a fixed
// clock: a configuration chosen by the first byte, then the PAM user, the token and the provider's
// answers, separated by NUL bytes:  <config byte> user \0 token \0 status-byte body
// Every request (userinfo, introspection, discovery, JWKS) gets that same answer.
#include "authenticator.hpp"
#include "configuration.hpp"
#include "scripted_http.hpp"
#include "settings_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Configurations that reach every verifier and rule.
const std::vector<std::vector<std::string_view>>& configurations()
{
    // A function-local object would leave a static destructor; the fuzzer process does not care.
    static const std::vector<std::vector<std::string_view>> all{
        {"userinfo_url=https://idp.example.com/userinfo", "cache_ttl=0"},
        {"verify=jwt,userinfo", "issuer=https://idp.example.com", "audience=postgres",
         "userinfo_url=https://idp.example.com/userinfo", "cache_dir=/nonexistent", "groups=dba", "scope=db"},
        {"verify=introspect", "introspection_url=https://idp.example.com/i", "client_id=pg", "audience=postgres",
         "cache_ttl=0", "require_claim=email_verified:true"},
        {"verify=jwt", "issuer=https://idp.example.com", "allow_any_audience", "allow_id_tokens",
         "jwks_url=https://idp.example.com/jwks", "cache_dir=/nonexistent", "case_insensitive", "leeway=0"},
    };
    return all;
}

std::string_view next_field(std::string_view& rest)
{
    const auto end = rest.find('\0');
    const std::string_view field = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    return field;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2) {
        return 0;
    }
    const auto& arguments = configurations()[data[0] % configurations().size()];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::string_view user = next_field(rest);
    const std::string_view token = next_field(rest);
    static constexpr long statuses[] = {200, 200, 200, 200, 401, 403, 500, 0};
    const long status = rest.empty() ? 200 : statuses[static_cast<unsigned char>(rest[0]) % 8];
    const std::string_view body = rest.empty() ? rest : rest.substr(1);

    auto parsed = pam_oauth2::parse_settings(arguments, nullptr);
    if (auto* settings = std::get_if<pam_oauth2::Settings>(&parsed)) {
        if (settings->verify.front() == pam_oauth2::VerifyMethod::Introspect) {
            settings->endpoints.client_secret = pam_oauth2::SecureString("secret"); // only from a file
        }
        const pam_oauth2::Configuration configuration{std::move(*settings), std::nullopt, {}};
        const pam_oauth2::HttpClientFactory factory = [&](const pam_oauth2::HttpSettings&) {
            return std::unique_ptr<pam_oauth2::HttpClient>(
                std::make_unique<pam_oauth2::fuzzing::ScriptedHttp>(status, body));
        };
        const pam_oauth2::Logger quiet([](int, const std::string&) {});
        (void)pam_oauth2::decide_login(
            user, pam_oauth2::SecureString(token), configuration, factory, [] { return 1'700'000'000LL; }, quiet);
    }
    return 0;
}
