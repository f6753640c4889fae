// Option parsing: the input is split at NUL into module arguments; the part after the first "\n\n\n"
// (if any) is the text of a conf= file.
#include "configuration.hpp"
#include "settings_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto file_start = input.find("\n\n\n");
    const std::string_view args_text = input.substr(0, file_start);
    std::vector<std::string_view> args;
    std::size_t start = 0;
    while (start <= args_text.size()) {
        const auto end = args_text.find('\0', start);
        args.push_back(args_text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    pam_oauth2::ConfigFileText file;
    file.path = "/etc/security/pam_oauth2.conf";
    if (file_start != std::string_view::npos) {
        file.text = std::string(input.substr(file_start + 3));
    }
    auto parsed = pam_oauth2::parse_settings(args, file_start == std::string_view::npos ? nullptr : &file);
    if (auto* options = std::get_if<pam_oauth2::Settings>(&parsed)) {
        (void)pam_oauth2::describe_settings(*options);
    }
    return 0;
}
