#pragma once

#include <optional>
#include <string>

namespace pam_oauth2::token {

/// `text` as a QR code drawn with Unicode half blocks (two rows of modules per line, a quiet zone of
/// two modules), dark modules as the terminal's background so phones read it on dark and light
/// themes alike. nullopt when it cannot be encoded or is wider than `columns`.
std::optional<std::string> qr_code_text(const std::string& text, int columns);

/// Whether standard error is a terminal that can show one: a tty, TERM set and not "dumb", a UTF-8
/// locale. `columns` is its width (0 when unknown).
bool terminal_can_show_qr(int& columns);

} // namespace pam_oauth2::token
