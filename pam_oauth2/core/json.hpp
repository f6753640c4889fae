#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

/// Parses text that must be one JSON object. Never throws; nullopt for bad JSON, any other JSON type,
/// an object that repeats a key (at any depth), or nesting deeper than a sane bound. Parse error texts are never
/// surfaced (they echo the input).
std::optional<nlohmann::json> parse_json_object(std::string_view text);

/// The member `key` of an object when it is a string.
std::optional<std::string> string_member(const nlohmann::json& object, const std::string& key);

/// The member `key` when it is a number that fits a signed 64-bit integer (JWT NumericDate).
std::optional<long long> integer_member(const nlohmann::json& object, const std::string& key);

/// Human-readable JSON type name for reasons ("a number", "an array", ...).
const char* json_type_phrase(const nlohmann::json& value);

} // namespace pam_oauth2
