#pragma once

#include "http_client.hpp"

#include <memory>
#include <string>

namespace pam_oauth2::token {

/// Where this program finds pam_oauth2_transport.so: ../pam_oauth2/ from its own directory when the
/// file is there (the build tree), else the directory the packages install it in (beside the PAM
/// directory), fixed at build time. Nothing comes from the environment.
std::string transport_path();

/// An HttpClient that loads the transport (libcurl and OpenSSL behind it) on its first request, with
/// the module's loader and ABI stamp check: a call answered from the kept token loads neither.
std::unique_ptr<HttpClient> make_network(const HttpSettings& settings);

} // namespace pam_oauth2::token
