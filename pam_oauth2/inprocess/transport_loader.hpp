#pragma once

#include "http_client.hpp"

#include <memory>
#include <string>

namespace pam_oauth2 {

/// An HttpClientFactory that dlopens pam_oauth2_transport.so on first use and unloads it when the
/// returned client is destroyed. If the helper cannot be loaded, the client answers every request
/// with a transport error naming the reason (so the login ends as unavailable, with a clear log line).
std::unique_ptr<HttpClient> make_loaded_http_client(const HttpSettings& settings);

/// The same from an explicit `path`, for a program installed elsewhere than the module (the sign-in
/// helper in the binary directory).
std::unique_ptr<HttpClient> make_loaded_http_client_at(const HttpSettings& settings, const std::string& path);

} // namespace pam_oauth2
