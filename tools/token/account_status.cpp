// --status: what is kept, read from the store alone (no network, never a token).
#include "account_commands.hpp"
#include "credential_store.hpp"
#include "exit_status.hpp"
#include "json.hpp"
#include "text.hpp"

#include <cstdio>
#include <ctime>

namespace pam_oauth2::token {
namespace {

std::string utc(long long seconds)
{
    if (seconds <= 0) {
        return "unknown";
    }
    const auto time = static_cast<std::time_t>(seconds);
    std::tm parts{};
    char text[32];
    gmtime_r(&time, &parts);
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return text;
}

// One kept sign-in as shown: what it recorded, completed from the options for one kept by an
// earlier version (which recorded only the tokens) under this profile's key.
struct Shown {
    std::string key;
    std::string where;
    StoredSignIn kept;
    std::string problem; // when it could not be read
};

void complete(Shown& shown, const TokenOptions& options)
{
    if (!options.profile_known || shown.key.rfind(profile_key(options), 0) != 0) {
        return;
    }
    auto& kept = shown.kept;
    kept.issuer = kept.issuer.empty() ? options.issuer : kept.issuer;
    kept.client_id = kept.client_id.empty() ? options.client_id : kept.client_id;
    kept.profile = kept.profile.empty() ? options.profile : kept.profile;
}

nlohmann::json as_json(const Shown& shown, long long now)
{
    const auto& kept = shown.kept;
    nlohmann::json entry{{"key", shown.key}, {"store", shown.where}};
    if (!shown.problem.empty()) {
        entry["problem"] = shown.problem;
        return entry;
    }
    entry.update({{"issuer", kept.issuer},
                  {"client_id", kept.client_id},
                  {"profile", kept.profile},
                  {"account", kept.account},
                  {"subject", kept.subject},
                  {"username", kept.username},
                  {"access_token_valid_until", kept.access_token.empty() ? 0 : kept.access_expires_at},
                  {"access_token_valid", !kept.access_token.empty() && kept.access_expires_at > now},
                  {"refresh_token", !kept.refresh_token.empty()},
                  {"flow", kept.flow},
                  {"signed_in_at", kept.signed_in_at}});
    return entry;
}

void print_text(const Shown& shown, long long now)
{
    const auto& kept = shown.kept;
    const auto or_unknown = [](const std::string& value) { return value.empty() ? "unknown" : printable(value); };
    std::printf("%s%s, %s\n", kept.profile.empty() ? "" : ("profile " + printable(kept.profile) + ", ").c_str(),
                kept.account.empty() ? "default account" : ("account " + printable(kept.account)).c_str(),
                printable(shown.where).c_str());
    if (!shown.problem.empty()) {
        std::printf("  cannot be read: %s\n", printable(shown.problem).c_str());
        return;
    }
    std::printf("  issuer:        %s\n  client:        %s\n", or_unknown(kept.issuer).c_str(),
                or_unknown(kept.client_id).c_str());
    std::printf("  signed in as:  %s (subject %s)\n", or_unknown(kept.username).c_str(),
                or_unknown(kept.subject).c_str());
    if (kept.access_token.empty()) {
        std::printf("  access token:  none kept\n");
    } else {
        std::printf("  access token:  %s until %s\n", kept.access_expires_at > now ? "valid" : "expired",
                    utc(kept.access_expires_at).c_str());
    }
    std::printf("  refresh token: %s\n", kept.refresh_token.empty() ? "no" : "yes");
    std::printf("  signed in:     %s%s\n", utc(kept.signed_in_at).c_str(),
                kept.flow.empty() ? "" : (" with the " + printable(kept.flow) + " flow").c_str());
}

} // namespace

int show_status(const TokenOptions& options)
{
    const std::string prefix = !options.profile_known    ? ""
                               : options.account.empty() ? profile_key(options)
                                                         : sign_in_key(options);
    auto listed = list_stores(options.store, prefix);
    if (auto* problem = std::get_if<std::string>(&listed)) {
        std::fprintf(stderr, "pam_oauth2_token: %s\n", printable(*problem).c_str());
        return exit_configuration;
    }
    const auto now = static_cast<long long>(std::time(nullptr));
    nlohmann::json document{{"sign_ins", nlohmann::json::array()}};
    std::size_t count = 0;
    for (auto& entry : std::get<std::vector<KeptEntry>>(listed)) {
        if (!options.account.empty() && entry.key != prefix) {
            continue;
        }
        Shown shown{entry.key, entry.store->where(), {}, {}};
        auto loaded = entry.store->load();
        if (auto* problem = std::get_if<std::string>(&loaded)) {
            shown.problem = *problem;
        } else if (auto& kept = std::get<std::optional<StoredSignIn>>(loaded)) {
            shown.kept = std::move(*kept);
            complete(shown, options);
        } else {
            continue; // gone since the listing
        }
        ++count;
        if (options.json) {
            document["sign_ins"].push_back(as_json(shown, now));
        } else {
            print_text(shown, now);
        }
    }
    if (options.json) {
        std::printf("%s\n", document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else if (count == 0) {
        std::printf("not signed in: no sign-in is kept%s\n", options.profile_known ? " for this profile" : "");
    }
    return std::fflush(stdout) == 0 ? exit_ok : exit_unavailable;
}

} // namespace pam_oauth2::token
