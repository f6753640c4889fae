#include "url_policy.hpp"

#include "text.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace pam_oauth2 {

bool is_loopback_host(std::string_view host)
{
    if (host == "localhost") {
        return true;
    }
    const std::string text(host);
    in_addr v4{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6{};
    return inet_pton(AF_INET6, text.c_str(), &v6) == 1 && std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
}

std::optional<std::string> check_endpoint_url(std::string_view url, bool allow_http)
{
    constexpr std::string_view https = "https://";
    constexpr std::string_view http = "http://";
    bool plain = false;
    std::string_view rest;
    if (url.substr(0, https.size()) == https) {
        rest = url.substr(https.size());
    } else if (url.substr(0, http.size()) == http) {
        plain = true;
        rest = url.substr(http.size());
    } else {
        return std::string("must start with https://");
    }
    for (const char c : url) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            return std::string("contains a space or control character");
        }
    }
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    // user:password@host hides the real host from a reader of the config; nobody needs it here.
    if (authority.find('@') != std::string_view::npos) {
        return std::string("must not contain user information (@)");
    }
    std::string_view host;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return std::string("has an unterminated [IPv6] host");
        }
        host = authority.substr(1, close - 1);
    } else {
        host = authority.substr(0, authority.find(':'));
    }
    if (host.empty()) {
        return std::string("has no host");
    }
    if (plain) {
        if (!allow_http) {
            return std::string("uses http://, which is refused unless allow_http is set (loopback only)");
        }
        if (!is_loopback_host(host)) {
            return std::string("uses http:// to a host that is not loopback; allow_http covers loopback only");
        }
    }
    return std::nullopt;
}

std::optional<UrlHost> url_host(std::string_view url)
{
    if (check_endpoint_url(url, true) && check_endpoint_url(url, false)) {
        return std::nullopt; // neither an https URL nor a loopback http one
    }
    const std::string_view rest = url.substr(url.find("://") + 3);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    UrlHost found;
    std::string_view port_part;
    if (authority.front() == '[') {
        const auto close = authority.find(']');
        found.host = std::string(authority.substr(1, close - 1));
        port_part = authority.substr(close + 1);
    } else {
        const auto colon = authority.find(':');
        found.host = std::string(authority.substr(0, colon));
        port_part = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
    }
    if (!port_part.empty() && port_part.front() == ':') {
        found.port = std::string(port_part.substr(1));
    }
    for (char& c : found.host) {
        c = ascii_lower(c);
    }
    found.effective_port = !found.port.empty() ? found.port : url.substr(0, 5) == "https" ? "443" : "80";
    return found;
}

} // namespace pam_oauth2
