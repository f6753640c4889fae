#include "json.hpp"

#include <cmath>

namespace pam_oauth2 {

std::optional<nlohmann::json> parse_json_object(std::string_view text)
{
    // Deeply nested input could exhaust the stack of the host process; identity provider answers and
    // JOSE headers are shallow.
    constexpr std::size_t max_depth = 64;
    std::size_t depth_seen = 0;
    bool too_deep = false;
    const nlohmann::json::parser_callback_t limit_depth = [&](int depth, nlohmann::json::parse_event_t,
                                                              nlohmann::json&) {
        depth_seen = static_cast<std::size_t>(depth);
        if (depth_seen > max_depth) {
            too_deep = true;
            return false;
        }
        return true;
    };
    auto parsed = nlohmann::json::parse(text.begin(), text.end(), limit_depth, /*allow_exceptions=*/false);
    if (too_deep || parsed.is_discarded() || !parsed.is_object()) {
        return std::nullopt;
    }
    return parsed;
}

std::optional<std::string> string_member(const nlohmann::json& object, const std::string& key)
{
    const auto found = object.find(key);
    if (found == object.end() || !found->is_string()) {
        return std::nullopt;
    }
    return found->get<std::string>();
}

std::optional<long long> integer_member(const nlohmann::json& object, const std::string& key)
{
    const auto found = object.find(key);
    if (found == object.end()) {
        return std::nullopt;
    }
    if (found->is_number_integer()) {
        return found->get<long long>();
    }
    if (found->is_number_unsigned()) {
        const auto value = found->get<unsigned long long>();
        if (value > static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
            return std::nullopt;
        }
        return static_cast<long long>(value);
    }
    if (found->is_number_float()) {
        const double value = found->get<double>();
        if (!std::isfinite(value) || value < -9.0e18 || value > 9.0e18) {
            return std::nullopt;
        }
        return static_cast<long long>(value);
    }
    return std::nullopt;
}

const char* json_type_phrase(const nlohmann::json& value)
{
    switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "a number";
    case nlohmann::json::value_t::binary: return "binary";
    case nlohmann::json::value_t::discarded: return "invalid";
    }
    return "unknown";
}

} // namespace pam_oauth2
