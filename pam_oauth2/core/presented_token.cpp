#include "presented_token.hpp"

#include "json.hpp"

#include <algorithm>
#include <variant>

namespace pam_oauth2 {

PresentedToken::PresentedToken(const SecureString& token) : token_(token)
{
    auto parsed = parse_compact_jws(token.view());
    if (auto* problem = std::get_if<std::string>(&parsed)) {
        jws_problem_ = std::move(*problem);
    } else {
        jws_ = std::move(std::get<CompactJws>(parsed));
    }
}

bool PresentedToken::looks_like_jws() const noexcept
{
    const auto text = view();
    return starts_like_jws() || std::count(text.begin(), text.end(), '.') == 2;
}

std::optional<long long> PresentedToken::unverified_expiry() const
{
    return jws_ ? integer_member(jws_->payload, "exp") : std::nullopt;
}

} // namespace pam_oauth2
