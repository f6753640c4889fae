#include "json.hpp"

#include <cmath>
#include <set>
#include <vector>

namespace pam_oauth2 {

std::optional<nlohmann::json> parse_json_object(std::string_view text)
{
    // Deeply nested input could exhaust the stack of the host process; identity provider answers and
    // JOSE headers are shallow.
    constexpr std::size_t max_depth = 64;
    bool refused = false;
    // Keys seen in each object being read. A repeated key is refused, not resolved: parsers disagree on
    // which copy wins, and {"alg":"none","alg":"RS256"} must not mean one thing here and another there.
    std::vector<std::set<std::string>> open_objects;
    using Event = nlohmann::json::parse_event_t;
    const nlohmann::json::parser_callback_t check = [&](int depth, Event event, nlohmann::json& parsed) {
        if (static_cast<std::size_t>(depth) > max_depth) {
            refused = true;
            return false;
        }
        if (event == Event::object_start) {
            open_objects.emplace_back();
        } else if (event == Event::object_end && !open_objects.empty()) {
            open_objects.pop_back();
        } else if (event == Event::key && !open_objects.empty() &&
                   !open_objects.back().insert(parsed.get<std::string>()).second) {
            refused = true;
            return false;
        }
        return true;
    };
    auto parsed = nlohmann::json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/false);
    if (refused || parsed.is_discarded() || !parsed.is_object()) {
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
    // Unsigned first: is_number_integer() is true for unsigned values too, and 2^64-1 must not read as -1.
    if (found->is_number_unsigned()) {
        const auto value = found->get<unsigned long long>();
        if (value > static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
            return std::nullopt;
        }
        return static_cast<long long>(value);
    }
    if (found->is_number_integer()) {
        return found->get<long long>();
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
