#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pam_oauth2 {

/// The response headers the transport reads (Cache-Control and Date), collected line by line from
/// libcurl's header callback: libcurl 7.76 (RHEL 9) has no curl_easy_header. Names compare without
/// ASCII case; only the last header block counts (a 1xx interim answer's block is dropped when the
/// next status line arrives), trailers after it are ignored; the first occurrence of a name wins,
/// as curl_easy_header's index 0 did; a folded line continues the header before it.
class ResponseHeaders {
public:
    /// A value longer than this is dropped (read as absent), so a hostile answer cannot make the
    /// transport keep more than twice this much; both headers are a few dozen bytes in practice.
    static constexpr std::size_t max_value_bytes = 4096;

    /// One line as libcurl hands it over: a status line, a header, or the blank line ending a block.
    void take_line(std::string_view line);

    [[nodiscard]] const std::string& cache_control() const { return cache_control_.value; }
    [[nodiscard]] const std::string& date() const { return date_.value; }

private:
    struct Field {
        std::string value;
        bool seen = false;    // this block already had the name: later copies are ignored
        bool dropped = false; // longer than max_value_bytes: read as absent
        void reset() { *this = Field{}; }
        void set(std::string_view text);
        void extend(std::string_view continuation);
    };

    void take_header(std::string_view line);

    Field cache_control_;
    Field date_;
    Field* last_ = nullptr; // the field the previous header line set (for a folded continuation)
    bool in_block_ = false; // between a status line and the blank line that ends its headers
};

} // namespace pam_oauth2
