#pragma once

#include "login_observer.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace pam_oauth2 {

// The steps of one decision, in order, as `pam_oauth2_check --explain` and `--json` show them: which
// method applied, each document read from a cache or fetched, each HTTP exchange, the key that
// verified a signature, each claim rule and its result. It is the observer the check tool sets on
// the Logger; the core only sends typed events, and this is the one place they become JSON.
// Steps never hold the token or a secret: URLs, statuses, key ids, the provider's claims.
class Trace final : public LoginObserver {
public:
    /// Every step so far, as a JSON array of `{"step": NAME, ...}` objects.
    [[nodiscard]] const nlohmann::json& steps() const noexcept { return steps_; }

    void before_verifying(const std::string* problem) override;
    void method(const char* name, VerifyMethod method, bool applies) override;
    void issuer_section(const IssuerSectionEvent& event) override;
    void verdict_cache_hit(const std::string& detail) override;
    void verdict_cache_miss() override;
    void verdict_cache_written(long seconds) override;
    void document(const DocumentEvent& event) override;
    void http(const HttpRequest& request, const HttpResult& result, long long elapsed_ms) override;
    void verified(const char* name, VerifyMethod method, const VerifyResult& result) override;
    void rule(const RuleCheck& check) override;

private:
    // Appends `{"step": step, ...detail}`; `detail` must be an object.
    void add(const char* step, const nlohmann::json& detail);

    nlohmann::json steps_ = nlohmann::json::array();
};

} // namespace pam_oauth2
