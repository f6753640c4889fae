#pragma once

namespace pam_oauth2 {

/// The module and pam_oauth2_transport.so share C++ types (HttpClient, HttpSettings, SecureString);
/// they must come from the same build. Bumped whenever http_client.hpp or secure_string.hpp change.
constexpr int transport_abi_version = 3;

/// File name of the transport helper, looked up beside the module first, then in ../pam_oauth2/.
constexpr const char* transport_file_name = "pam_oauth2_transport.so";

} // namespace pam_oauth2
