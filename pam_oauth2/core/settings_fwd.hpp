#pragma once

// Names of the settings types for headers that only pass them by reference: a header that includes
// this instead of settings.hpp is not rebuilt into every file when a setting is added.
namespace pam_oauth2 {

enum class VerifyMethod;
enum class LogTarget;
struct EndpointSettings;
struct JwtSettings;
struct TokenRules;
struct UserRules;
struct CacheSettings;
struct ConversationSettings;
struct BrokerSettings;
struct LogSettings;
struct Settings;
struct Configuration;

} // namespace pam_oauth2
