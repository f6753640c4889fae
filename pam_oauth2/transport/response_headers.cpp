#include "response_headers.hpp"

#include "text.hpp"

namespace pam_oauth2 {

void ResponseHeaders::Field::set(std::string_view text)
{
    seen = true;
    if (text.size() > max_value_bytes) {
        dropped = true;
        return;
    }
    value.assign(text);
}

void ResponseHeaders::Field::extend(std::string_view continuation)
{
    if (dropped) {
        return;
    }
    if (value.size() + 1 + continuation.size() > max_value_bytes) {
        dropped = true;
        value.clear();
        return;
    }
    if (!value.empty() && !continuation.empty()) {
        value += ' ';
    }
    value.append(continuation);
}

void ResponseHeaders::take_line(std::string_view line)
{
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    // A status line starts a new block (the final answer after 100 Continue, or after a redirect
    // were one ever followed): what the earlier block said is not the answer's.
    if (line.substr(0, 5) == "HTTP/") {
        cache_control_.reset();
        date_.reset();
        last_ = nullptr;
        in_block_ = true;
        return;
    }
    if (!in_block_) {
        return; // trailers after the body, or lines before any status line
    }
    if (line.empty()) {
        in_block_ = false;
        last_ = nullptr;
        return;
    }
    if (line.front() == ' ' || line.front() == '\t') {
        if (last_ != nullptr) {
            last_->extend(trim(line));
        }
        return;
    }
    take_header(line);
}

void ResponseHeaders::take_header(std::string_view line)
{
    last_ = nullptr;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        return;
    }
    const std::string_view name = line.substr(0, colon);
    Field* field = equal_ignoring_ascii_case(name, "Cache-Control") ? &cache_control_
                   : equal_ignoring_ascii_case(name, "Date")        ? &date_
                                                                    : nullptr;
    if (field == nullptr || field->seen) {
        return;
    }
    field->set(trim(line.substr(colon + 1)));
    last_ = field;
}

} // namespace pam_oauth2
