#include "report_text.hpp"

#include "text.hpp"

namespace pam_oauth2 {
namespace {

// A JSON string member as plain text, any other value as compact JSON; escaped for the terminal.
std::string shown(const nlohmann::json& value)
{
    if (value.is_string()) {
        return printable(value.get_ref<const std::string&>());
    }
    return printable(value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
}

std::string member(const nlohmann::json& object, const char* name)
{
    const auto found = object.find(name);
    return found == object.end() ? std::string() : shown(*found);
}

// A boolean member; false when absent or not a boolean.
bool flag(const nlohmann::json& object, const char* name)
{
    const auto found = object.find(name);
    return found != object.end() && *found == true;
}

std::string holds_word(const nlohmann::json& step)
{
    return flag(step, "holds") ? "holds" : "FAILS: " + member(step, "problem");
}

std::string time_text(const nlohmann::json& time)
{
    return member(time, "epoch") + " = " + member(time, "utc") + " (" + member(time, "relative") + ")";
}

std::string options_text(const nlohmann::json& rows, const char* indent)
{
    std::string out;
    for (const auto& row : rows) {
        std::string name = member(row, "name");
        name.resize(std::max<std::size_t>(name.size(), 22), ' ');
        out += indent + name + " = " + member(row, "value") + "   (" + member(row, "origin") + ")\n";
    }
    return out;
}

std::string configuration_text(const nlohmann::json& configuration)
{
    auto given = nlohmann::json::array();
    std::size_t defaults = 0;
    for (const auto& row : configuration["options"]) {
        if (row["origin"] == "default") {
            ++defaults;
        } else {
            given.push_back(row);
        }
    }
    std::string out = "configuration (secrets redacted; " + std::to_string(defaults) +
                      " other options at their defaults, --json lists them)\n";
    out += options_text(given, "  ");
    for (const auto& section : configuration["issuer_sections"]) {
        out += "  [issuer " + member(section, "section") + "] for tokens of " + member(section, "issuer") + "\n";
        out += options_text(section["options"], "    ");
    }
    return out;
}

std::string token_text(const nlohmann::json& token)
{
    std::string out = "token\n  " + member(token, "bytes") + " bytes, " + member(token, "fingerprint") + ", " +
                      member(token, "form") + "\n";
    if (token.contains("problem")) {
        out += "  problem: " + member(token, "problem") + "\n";
    }
    if (token.contains("looks_cut")) {
        out += "  looks cut: " + member(token, "looks_cut") + "\n";
    }
    if (token.contains("header")) {
        out += "  header: " + member(token, "header") + "\n  claims:\n";
        const auto& times = token["times"];
        for (const auto& claim : token["claims"].items()) {
            const auto time = times.find(claim.key());
            out += "    " + printable(claim.key()) + " = " +
                   (time != times.end() ? time_text(*time) : shown(claim.value())) + "\n";
        }
    }
    return out;
}

std::string step_text(const nlohmann::json& step)
{
    const std::string kind = member(step, "step");
    if (kind == "before verifying") {
        return "user and token syntax: " + (flag(step, "holds") ? "hold" : holds_word(step));
    }
    if (kind == "method") {
        return "method " + member(step, "method") + (flag(step, "applies") ? ": applies (" : ": skipped (") +
               member(step, "why") + ")";
    }
    if (kind == "issuer section") {
        return flag(step, "found")
                   ? "issuer section [issuer " + member(step, "section") + "] (" + member(step, "issuer") + ")"
                   : "issuer section: none matches: " + member(step, "problem");
    }
    if (kind == "http") {
        const std::string answer = step.contains("error")
                                       ? "no answer: " + member(step, "error")
                                       : "HTTP " + member(step, "status") + ", " + member(step, "bytes") + " bytes";
        std::string line = "http " + member(step, "request") + " " + member(step, "url") + " -> " + answer + ", " +
                           member(step, "ms") + " ms";
        if (step.contains("cache_control")) {
            line += ", Cache-Control: " + member(step, "cache_control");
        }
        return line;
    }
    if (kind == "document") {
        std::string line = member(step, "document") + " " + member(step, "url") + ": from " + member(step, "from");
        if (step.contains("age_seconds")) {
            line += ", " + member(step, "age_seconds") + " s old";
        }
        if (step.contains("kept_seconds")) {
            line += ", kept " + member(step, "kept_seconds") + " s";
        }
        if (step.contains("written")) {
            line += step["written"] == true ? ", written to " + member(step, "store") : ", not cached";
        }
        if (step.contains("problem")) {
            line += ": " + member(step, "problem");
        }
        return line;
    }
    if (kind == "verify") {
        std::string line = "verify " + member(step, "method") + ": " + member(step, "status");
        if (!member(step, "detail").empty()) {
            line += " (" + member(step, "detail") + ")";
        }
        if (step.contains("signing_key")) {
            line += ", signed by the JWKS key " + member(step, "signing_key");
        }
        if (step.contains("claims")) {
            line += "\n    the provider's claims: " + member(step, "claims");
        }
        return line;
    }
    if (kind == "rule") {
        return "rule " + member(step, "rule") + ": " + holds_word(step);
    }
    if (kind == "verdict cache") {
        if (step.contains("written")) {
            return "verdict cache: written, reused for up to " + member(step, "for_seconds") + " s";
        }
        return flag(step, "hit") ? "verdict cache: hit, " + member(step, "detail") : "verdict cache: miss";
    }
    std::string line = kind;
    for (const auto& field : step.items()) {
        if (field.key() != "step") {
            line += " " + printable(field.key()) + "=" + shown(field.value());
        }
    }
    return line;
}

} // namespace

std::string report_json(const nlohmann::json& report)
{
    return report.dump(2, ' ', true, nlohmann::json::error_handler_t::replace);
}

std::string explanation_text(const nlohmann::json& report)
{
    std::string out;
    if (report.contains("service")) {
        out += "service: " + member(report["service"], "line") + "\n";
    }
    out += configuration_text(report["configuration"]);
    if (report.contains("token")) {
        out += token_text(report["token"]);
    }
    out += "steps\n";
    for (const auto& step : report["steps"]) {
        out += "  " + step_text(step) + "\n";
    }
    const auto& result = report["result"];
    out += "result\n  " + member(result, "result") + ": " + member(result, "reason") + "\n  the module returns " +
           member(result, "pam_code_name") + " (" + member(result, "pam_code") + ")\n";
    if (result.contains("valid_until")) {
        out += "  the account stage accepts it until " + time_text(result["valid_until"]) + ", leeway included\n";
    }
    return out;
}

std::string dry_run_text(const nlohmann::json& report)
{
    std::string out;
    if (report.contains("service")) {
        out += "service: " + member(report["service"], "line") + "\n";
    }
    for (const auto& check : report["checks"]) {
        out += (flag(check, "holds") ? "ok    " : "FAIL  ") + member(check, "check") + ": " + member(check, "detail") +
               "\n";
    }
    out += std::string("result: ") + (flag(report, "holds") ? "every check holds" : "a check fails") + "\n";
    return out;
}

} // namespace pam_oauth2
