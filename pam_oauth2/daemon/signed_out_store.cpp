#include "signed_out_store.hpp"

#include "json.hpp"

namespace pam_oauth2 {

std::optional<CacheEntry> SignedOutStore::read(std::string_view key, std::size_t max_bytes) const
{
    auto entry = inner_.read(key, max_bytes);
    // Verdict entries are "verdict METHOD ..." (core/verdict_cache.cpp) holding {"claims": {...}}.
    if (!entry || key.rfind("verdict ", 0) != 0 || registry_.size() == 0) {
        return entry;
    }
    const auto document = parse_json_object(entry->text);
    if (!document || !document->contains("claims") || !(*document)["claims"].is_object()) {
        return entry; // the verdict cache refuses it itself
    }
    const auto& claims = (*document)["claims"];
    const auto at =
        registry_.signed_out_at(string_member(claims, "iss").value_or(""), string_member(claims, "sub").value_or(""),
                                string_member(claims, "sid").value_or(""), now_());
    if (at && *at >= entry->stored_at) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    return entry;
}

} // namespace pam_oauth2
