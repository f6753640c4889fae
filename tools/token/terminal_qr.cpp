#include "terminal_qr.hpp"

#include <langinfo.h>
#include <qrencode.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <clocale>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace pam_oauth2::token {
namespace {

struct QrFree {
    void operator()(QRcode* code) const { QRcode_free(code); }
};

constexpr int quiet_zone = 2;

} // namespace

std::optional<std::string> qr_code_text(const std::string& text, int columns)
{
    const std::unique_ptr<QRcode, QrFree> code(QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_L, QR_MODE_8, 1));
    if (!code) {
        return std::nullopt;
    }
    const int size = code->width;
    const int full = size + 2 * quiet_zone;
    if (columns > 0 && full > columns) {
        return std::nullopt;
    }
    // Light modules are drawn (full blocks), dark ones left as background: the code reads as dark
    // on light whatever the terminal's colours, with the quiet zone drawn light around it.
    const auto light = [&](int row, int column) {
        const int r = row - quiet_zone;
        const int c = column - quiet_zone;
        if (r < 0 || c < 0 || r >= size || c >= size) {
            return true;
        }
        return (code->data[r * size + c] & 1) == 0;
    };
    std::string out;
    for (int row = 0; row < full; row += 2) {
        for (int column = 0; column < full; ++column) {
            const bool top = light(row, column);
            const bool bottom = row + 1 < full ? light(row + 1, column) : false;
            out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
        }
        out += '\n';
    }
    return out;
}

bool terminal_can_show_qr(int& columns)
{
    columns = 0;
    if (isatty(STDERR_FILENO) == 0) {
        return false;
    }
    const char* term = std::getenv("TERM");
    if (term == nullptr || term[0] == '\0' || std::strcmp(term, "dumb") == 0) {
        return false;
    }
    std::setlocale(LC_CTYPE, "");
    const bool utf8 = std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    std::setlocale(LC_CTYPE, "C");
    winsize window{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &window) == 0) {
        columns = window.ws_col;
    }
    return utf8;
}

} // namespace pam_oauth2::token
