#pragma once

#include "settings_fwd.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

// Where an option may be given.
enum class OptionSource { Anywhere, FileOnly, ArgumentOnly };

// One option, declared once: parsing, the debug dump, the documented default (what `show` gives for
// default Settings) and `pam_oauth2_check --list-options` all come from this line of the table.
// Trivially destructible and constant-initialised: the table leaves nothing to run at dlclose().
struct OptionSpec {
    std::string_view name;
    std::string_view group; // the section of docs/configuration.md it belongs to
    std::string_view summary;
    OptionSource source;
    bool secret;     // shown as <redacted> when set
    bool per_issuer; // may be set again inside an [issuer NAME] section of a conf= file
    /// Stores the value (nullopt for a bare key) or says what is wrong with it, worded to follow
    /// "option NAME ".
    std::optional<std::string> (*set)(Settings& settings, std::optional<std::string_view> value);
    /// The value as it would be written in a module argument ("" when unset; secrets read <redacted>).
    std::string (*show)(const Settings& settings);
};

// The whole table, in documentation order.
struct OptionTable {
    const OptionSpec* first;
    const OptionSpec* last;
    [[nodiscard]] const OptionSpec* begin() const { return first; }
    [[nodiscard]] const OptionSpec* end() const { return last; }
};

/// Every option the module knows.
OptionTable option_table() noexcept;

/// The spec named `name`, or nullptr for an unknown key.
const OptionSpec* find_option(std::string_view name) noexcept;

} // namespace pam_oauth2
