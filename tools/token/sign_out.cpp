// --logout: revoke (best effort) and forget one account's kept sign-in, or every account's.
#include "account_commands.hpp"
#include "credential_store.hpp"
#include "exit_status.hpp"
#include "sign_in_lock.hpp"
#include "text.hpp"
#include "token_endpoint.hpp"

#include <cstdio>
#include <optional>

namespace pam_oauth2::token {
namespace {

void say(const std::string& line)
{
    std::fprintf(stderr, "pam_oauth2_token: %s\n", printable(line).c_str());
}

// The provider's endpoints, discovered at most once and only when a refresh token is to be revoked.
class Revoker {
public:
    Revoker(HttpClient& http, const TokenOptions& options) : http_(http), options_(options) {}

    void revoke(const SecureString& refresh_token)
    {
        if (refresh_token.empty()) {
            return;
        }
        if (!endpoints_) {
            auto discovered = discover(http_, options_.issuer, false);
            if (auto* problem = std::get_if<std::string>(&discovered)) {
                say("cannot revoke the refresh token at the provider (" + *problem +
                    "); the kept copy is forgotten anyway");
                return;
            }
            endpoints_ = std::get<ProviderEndpoints>(discovered);
        }
        if (endpoints_->revocation.empty()) {
            return; // the provider offers no revocation (RFC 7009): forgetting is all there is
        }
        std::deque<SecureString> keep;
        keep.emplace_back("refresh_token");
        HttpRequest request;
        request.url = endpoints_->revocation;
        request.form_fields = {{"token", &refresh_token}, {"token_type_hint", &keep.front()}};
        ClientRequest client;
        client.client_id = options_.client_id;
        add_client_fields(request.form_fields, client, keep, false);
        const auto answer = http_.send(request);
        if (!answer.transport_ok || answer.status != 200) {
            say("the provider did not confirm the revocation (" +
                (answer.transport_ok ? "HTTP " + std::to_string(answer.status) : answer.transport_error) +
                "); the kept copy is forgotten anyway");
        }
    }

private:
    HttpClient& http_;
    const TokenOptions& options_;
    std::optional<ProviderEndpoints> endpoints_;
};

std::string account_phrase(const std::string& account)
{
    return account.empty() ? "the default account" : "account " + account;
}

// Revokes and forgets one kept sign-in, under its lock; the exit status.
int forget_one(KeptEntry& entry, const std::string& account, const TokenOptions& options, Revoker& revoker)
{
    auto lock = lock_sign_in(entry.key, options.timeout_seconds, [] {});
    if (auto* problem = std::get_if<std::string>(&lock)) {
        say(*problem);
        return exit_not_signed_in;
    }
    auto loaded = entry.store->load();
    if (auto* kept = std::get_if<std::optional<StoredSignIn>>(&loaded); kept != nullptr && *kept) {
        revoker.revoke((*kept)->refresh_token);
    }
    if (auto problem = entry.store->forget()) {
        say(*problem);
        return exit_configuration;
    }
    say("signed out of " + account_phrase(account) + ": nothing is kept in " + entry.store->where());
    return exit_ok;
}

// The accounts kept for this profile, for the message about one that is not.
std::string kept_accounts(const TokenOptions& options)
{
    auto listed = list_stores(options.store, profile_key(options));
    std::string names;
    if (auto* entries = std::get_if<std::vector<KeptEntry>>(&listed)) {
        for (auto& entry : *entries) {
            auto loaded = entry.store->load();
            auto* kept = std::get_if<std::optional<StoredSignIn>>(&loaded);
            const std::string name = entry.key == profile_key(options) ? "the default account"
                                     : kept != nullptr && *kept        ? (*kept)->account
                                                                       : entry.key;
            names += (names.empty() ? "" : ", ") + name;
        }
    }
    return names.empty() ? "none" : names;
}

} // namespace

int sign_out(const TokenOptions& options, HttpClient& http)
{
    Revoker revoker(http, options);
    if (!options.all) {
        auto opened = open_store(options.store, sign_in_key(options));
        if (auto* problem = std::get_if<std::string>(&opened)) {
            say(*problem);
            return exit_configuration;
        }
        KeptEntry entry{sign_in_key(options), std::move(std::get<std::unique_ptr<CredentialStore>>(opened))};
        auto loaded = entry.store->load();
        const auto* kept = std::get_if<std::optional<StoredSignIn>>(&loaded);
        if (!options.account.empty() && kept != nullptr && !*kept) {
            say("no sign-in is kept for account " + options.account +
                " of this profile (kept: " + kept_accounts(options) + ")");
            return exit_not_signed_in;
        }
        return forget_one(entry, options.account, options, revoker);
    }
    auto listed = list_stores(options.store, profile_key(options));
    if (auto* problem = std::get_if<std::string>(&listed)) {
        say(*problem);
        return exit_configuration;
    }
    auto& entries = std::get<std::vector<KeptEntry>>(listed);
    int status = exit_ok;
    for (auto& entry : entries) {
        auto loaded = entry.store->load();
        auto* kept = std::get_if<std::optional<StoredSignIn>>(&loaded);
        const std::string account = kept != nullptr && *kept ? (*kept)->account : "";
        const int one = forget_one(entry,
                                   entry.key == profile_key(options) ? ""
                                   : account.empty()                 ? entry.key
                                                                     : account,
                                   options, revoker);
        status = status == exit_ok ? one : status;
    }
    if (entries.empty()) {
        say("signed out: no sign-in was kept for this profile");
    }
    return status;
}

} // namespace pam_oauth2::token
