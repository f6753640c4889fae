#pragma once

namespace pam_oauth2 {

/// The module and pam_oauth2_transport.so share C++ types (HttpClient, HttpSettings, SecureString);
/// they must come from the same build. pam_oauth2_transport_abi() answers PAM_OAUTH2_ABI_STAMP, a
/// hash of this header, http_client.hpp, secure_string.* and the other boundary headers, generated
/// at build time (pam_oauth2/loader/CMakeLists.txt): the loader refuses a helper of another build.

/// File name of the transport helper, looked up beside the module first, then in ../pam_oauth2/.
constexpr const char* transport_file_name = "pam_oauth2_transport.so";

} // namespace pam_oauth2
