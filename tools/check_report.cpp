#include "check_report.hpp"

#include "config_file.hpp"
#include "logger.hpp"
#include "option_table.hpp"
#include "presented_token.hpp"
#include "settings_parser.hpp"
#include "token_syntax.hpp"

#include <security/_pam_types.h>

#include <ctime>

namespace pam_oauth2 {
namespace {

// NumericDate claims (RFC 7519 section 4.1) and the ones providers add with the same meaning.
constexpr std::string_view time_claims[] = {"exp", "nbf", "iat", "auth_time", "updated_at"};

std::string relative(long long seconds)
{
    const long long magnitude = seconds < 0 ? -seconds : seconds;
    std::string span;
    if (magnitude >= 86400) {
        span = std::to_string(magnitude / 86400) + " d " + std::to_string(magnitude % 86400 / 3600) + " h";
    } else if (magnitude >= 3600) {
        span = std::to_string(magnitude / 3600) + " h " + std::to_string(magnitude % 3600 / 60) + " min";
    } else if (magnitude >= 60) {
        span = std::to_string(magnitude / 60) + " min " + std::to_string(magnitude % 60) + " s";
    } else {
        span = std::to_string(magnitude) + " s";
    }
    return seconds == 0 ? "now" : seconds > 0 ? "in " + span : span + " ago";
}

// The options of `settings` whose value differs from the default or that were given, with origins.
nlohmann::json option_rows(const Settings& settings, const std::map<std::string, std::string>& origins, bool only_given)
{
    const Settings defaults;
    auto rows = nlohmann::json::array();
    for (const auto& spec : option_table()) {
        const std::string name(spec.name);
        const auto origin = origins.find(name);
        if (only_given && origin == origins.end()) {
            continue;
        }
        rows.push_back({{"name", name},
                        {"value", spec.show(settings)},
                        {"origin", origin != origins.end() ? origin->second : "default"},
                        {"default", spec.show(defaults)},
                        {"secret", spec.secret}});
    }
    return rows;
}

} // namespace

nlohmann::json describe_time(long long epoch, long long now)
{
    const auto seconds = static_cast<time_t>(epoch);
    std::tm parts{};
    char text[40] = "out of range";
    if (gmtime_r(&seconds, &parts) != nullptr) {
        std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
    }
    return {{"epoch", epoch}, {"utc", text}, {"relative", relative(epoch - now)}};
}

nlohmann::json configuration_report(const Configuration& configuration, const std::vector<std::string_view>& args)
{
    // The file already passed the safe opener while loading; it is read again only to say which line
    // set what.
    std::optional<ConfigFileText> file;
    if (const auto path = conf_path_from_args(args)) {
        if (auto read = read_config_file(*path); std::holds_alternative<ConfigFileText>(read)) {
            file = std::move(std::get<ConfigFileText>(read));
        }
    }
    const ConfigFileText* text = file ? &*file : nullptr;
    nlohmann::json report{{"options", option_rows(configuration.settings, option_origins(args, text), false)}};
    auto sections = nlohmann::json::array();
    for (const auto& issuer : configuration.issuers) {
        sections.push_back({{"section", issuer.name},
                            {"issuer", issuer.settings.token.issuer},
                            {"options", option_rows(issuer.settings, option_origins(args, text, issuer.name), true)}});
    }
    report["issuer_sections"] = std::move(sections);
    return report;
}

nlohmann::json token_report(const SecureString& token, long long now)
{
    const PresentedToken presented(token);
    nlohmann::json report{{"bytes", token.size()}, {"fingerprint", token_fingerprint(token.view())}};
    if (auto hint = truncation_hint(presented)) {
        report["looks_cut"] = *hint;
    }
    const CompactJws* jws = presented.jws();
    if (jws == nullptr) {
        report["form"] = presented.looks_like_jws() ? "malformed JWT" : "opaque";
        if (presented.looks_like_jws()) {
            report["problem"] = presented.jws_problem();
        }
        return report;
    }
    report["form"] = "JWT (compact JWS), decoded below but not yet verified";
    report["header"] = jws->header;
    report["claims"] = jws->payload;
    nlohmann::json times = nlohmann::json::object();
    for (const auto name : time_claims) {
        const auto found = jws->payload.find(name);
        if (found != jws->payload.end() && found->is_number_integer()) {
            times[std::string(name)] = describe_time(found->get<long long>(), now);
        }
    }
    report["times"] = std::move(times);
    return report;
}

const char* pam_code_name(int code) noexcept
{
    switch (code) {
    case PAM_SUCCESS: return "PAM_SUCCESS";
    case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
    case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
    case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
    case PAM_BUF_ERR: return "PAM_BUF_ERR";
    case PAM_INCOMPLETE: return "PAM_INCOMPLETE";
    default: return "PAM_SYSTEM_ERR";
    }
}

nlohmann::json result_report(const LoginResult& result, long long now)
{
    const auto& record = result.record;
    nlohmann::json report{{"result", result_word(record.outcome)},
                          {"method", record.method.empty() ? "none" : record.method},
                          {"reason", record.reason},
                          {"pam_code", result.pam_code},
                          {"pam_code_name", pam_code_name(result.pam_code)}};
    if (result.verdict.valid_until) {
        report["valid_until"] = describe_time(*result.verdict.valid_until, now);
    }
    return report;
}

} // namespace pam_oauth2
