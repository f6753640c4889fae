#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pam_oauth2 {

/// Checks an identity provider URL against the transport policy: https:// always, http:// only with
/// allow_http and only to a loopback host. Returns what is wrong, or nullopt when the URL is fine.
std::optional<std::string> check_endpoint_url(std::string_view url, bool allow_http);

/// True for localhost, 127.0.0.0/8 and ::1 (the only hosts allow_http may reach).
bool is_loopback_host(std::string_view host);

/// The host of an http(s) URL, in lower case, and its port ("" when the URL names none); nullopt when
/// the URL is not one check_endpoint_url would pass the shape of. `effective_port` is the port a
/// request really goes to: the one named, else the scheme's (443 for https, 80 for http), so that a
/// policy comparing ports never mistakes "no port written" for "any port".
struct UrlHost {
    std::string host;
    std::string port;
    std::string effective_port;
};
std::optional<UrlHost> url_host(std::string_view url);

} // namespace pam_oauth2
