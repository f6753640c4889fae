#include "signed_out_store.hpp"

#include "json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace pam_oauth2 {

std::optional<CacheEntry> SignedOutStore::read(std::string_view key, std::size_t max_bytes) const
{
    auto entry = inner_.read(key, max_bytes);
    // Verdict entries are "verdict METHOD ..." (core/verdict_cache.cpp) holding {"claims": {...}}.
    if (!entry || key.rfind("verdict ", 0) != 0) {
        return entry;
    }
    const auto document = parse_json_object(entry->text);
    if (!document || !document->contains("claims") || !(*document)["claims"].is_object()) {
        return entry; // the verdict cache refuses it itself
    }
    const auto& claims = (*document)["claims"];
    const auto at = ended_at(string_member(claims, "iss").value_or(""), string_member(claims, "sub").value_or(""),
                             string_member(claims, "sid").value_or(""));
    if (at && *at >= entry->stored_at) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    return entry;
}

namespace {

// Marker names: by sub and by sid alone (a userinfo verdict has no iss); the issuer is in the value.
std::string marker_key(const char* kind, const std::string& value)
{
    return std::string("signed-out ") + kind + " " + value;
}

constexpr std::size_t marker_bytes = 4096;
constexpr std::size_t absent_kept = 10000;

} // namespace

void SignedOutStore::mark(const SignedOut& signed_out) const
{
    const std::string text = nlohmann::json{{"iss", signed_out.issuer}, {"at", signed_out.at}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (!signed_out.subject.empty()) {
        (void)inner_.write(marker_key("sub", signed_out.subject), text, signed_out.at);
    }
    if (!signed_out.session_id.empty()) {
        (void)inner_.write(marker_key("sid", signed_out.session_id), text, signed_out.at);
    }
}

std::optional<long long> SignedOutStore::marker(const std::string& issuer, const std::string& key) const
{
    const long long now = now_();
    {
        const std::lock_guard<std::mutex> lock(absent_mutex_);
        const auto found = absent_.find(key);
        if (found != absent_.end() && now - found->second < marker_recheck_seconds) {
            return std::nullopt;
        }
    }
    const auto entry = inner_.read(key, marker_bytes);
    const auto document = entry ? parse_json_object(entry->text) : std::nullopt;
    const auto marked_issuer = document ? string_member(*document, "iss") : std::nullopt;
    const auto at = document ? integer_member(*document, "at") : std::nullopt;
    if (at && marked_issuer && (issuer.empty() || issuer == *marked_issuer)) {
        return at;
    }
    const std::lock_guard<std::mutex> lock(absent_mutex_);
    if (absent_.size() >= absent_kept) {
        absent_.clear(); // bounded: the worst is one more lookup each
    }
    absent_[key] = now;
    return std::nullopt;
}

std::optional<long long> SignedOutStore::ended_at(const std::string& issuer, const std::string& subject,
                                                  const std::string& session_id) const
{
    const auto here = registry_.signed_out_at(issuer, subject, session_id, now_());
    const auto fleet = marked(issuer, subject, session_id);
    if (here && fleet) {
        return std::max(*here, *fleet);
    }
    return here ? here : fleet;
}

std::optional<long long> SignedOutStore::marked(const std::string& issuer, const std::string& subject,
                                                const std::string& session_id) const
{
    if (!consult_fleet_.load()) {
        return std::nullopt;
    }
    std::optional<long long> latest;
    for (const auto& [kind, value] : {std::pair<const char*, const std::string&>{"sub", subject},
                                      std::pair<const char*, const std::string&>{"sid", session_id}}) {
        if (value.empty()) {
            continue;
        }
        if (const auto at = marker(issuer, marker_key(kind, value))) {
            latest = std::max(latest.value_or(*at), *at);
        }
    }
    return latest;
}

} // namespace pam_oauth2
