#include "trace.hpp"
#include "settings.hpp"

#include "claims.hpp"
#include "http_client.hpp"
#include "verifier.hpp"

namespace pam_oauth2 {
namespace {

const char* source_name(DocumentSource from) noexcept
{
    switch (from) {
    case DocumentSource::Cache: return "cache";
    case DocumentSource::StaleCache: return "stale cache copy (the provider fails)";
    case DocumentSource::IdentityProvider: return "identity provider";
    }
    return "identity provider";
}

const char* status_name(VerifyStatus status) noexcept
{
    switch (status) {
    case VerifyStatus::Valid: return "valid";
    case VerifyStatus::Invalid: return "invalid";
    case VerifyStatus::Unavailable: return "unavailable";
    }
    return "unavailable";
}

} // namespace

void Trace::add(const char* step, const nlohmann::json& detail)
{
    nlohmann::json entry{{"step", step}};
    entry.update(detail);
    steps_.push_back(std::move(entry));
}

void Trace::before_verifying(const std::string* problem)
{
    if (problem != nullptr) {
        add("before verifying", {{"holds", false}, {"problem", *problem}});
        return;
    }
    add("before verifying", {{"holds", true}, {"checked", "PAM user, deny_users, token syntax and max_token_bytes"}});
}

void Trace::method(const char* name, VerifyMethod method, bool applies)
{
    add("method", {{"method", name},
                   {"applies", applies},
                   {"why", method != VerifyMethod::Jwt ? "asks the identity provider about any token"
                           : applies                   ? "the token looks like a JWT"
                                                       : "the token does not look like a JWT"}});
}

void Trace::issuer_section(const IssuerSectionEvent& event)
{
    if (!event.found) {
        add("issuer section", {{"found", false}, {"problem", event.problem}});
        return;
    }
    nlohmann::json step{{"found", true}, {"issuer", event.issuer}};
    if (!event.section.empty()) {
        step["section"] = event.section;
    }
    add("issuer section", step);
}

void Trace::verdict_cache_hit(const std::string& detail)
{
    add("verdict cache", {{"hit", true}, {"detail", detail}});
}

void Trace::verdict_cache_miss()
{
    add("verdict cache", {{"hit", false}});
}

void Trace::verdict_cache_written(long seconds)
{
    add("verdict cache", {{"written", true}, {"for_seconds", seconds}});
}

void Trace::document(const DocumentEvent& event)
{
    nlohmann::json step{{"document", event.document}, {"url", event.url}, {"from", source_name(event.from)}};
    if (event.age_seconds) {
        step["age_seconds"] = *event.age_seconds;
    }
    if (event.kept_seconds) {
        step["kept_seconds"] = *event.kept_seconds;
    }
    if (event.written) {
        step["written"] = *event.written;
    }
    if (event.store) {
        step["store"] = *event.store;
    }
    if (event.problem) {
        step["problem"] = *event.problem;
    }
    add("document", step);
}

void Trace::http(const HttpRequest& request, const HttpResult& result, long long elapsed_ms)
{
    nlohmann::json step{
        {"request", request.form_fields.empty() ? "GET" : "POST"}, {"url", request.url}, {"ms", elapsed_ms}};
    if (!result.transport_ok) {
        step["error"] = result.transport_error;
        add("http", step);
        return;
    }
    step["status"] = result.status;
    step["bytes"] = result.body.size();
    if (!result.cache_control.empty()) {
        step["cache_control"] = result.cache_control;
    }
    if (result.date != 0) {
        step["date"] = result.date;
    }
    add("http", step);
}

void Trace::verified(const char* name, VerifyMethod method, const VerifyResult& result)
{
    nlohmann::json step{{"method", name}, {"status", status_name(result.status)}, {"detail", result.detail}};
    if (!result.signing_key.empty()) {
        step["signing_key"] = result.signing_key;
    }
    if (result.status == VerifyStatus::Valid && method != VerifyMethod::Jwt) {
        step["claims"] = result.claims; // the provider's answer; a JWT's claims are the token's own
    }
    add("verify", step);
}

void Trace::rule(const RuleCheck& check)
{
    nlohmann::json step{{"rule", check.rule}, {"holds", !check.problem}};
    if (check.problem) {
        step["problem"] = *check.problem;
    }
    add("rule", step);
}

} // namespace pam_oauth2
