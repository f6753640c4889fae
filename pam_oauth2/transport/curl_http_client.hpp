#pragma once

#include "http_client.hpp"

#include <cstddef>
#include <memory>

namespace pam_oauth2 {

class SharedConnections;

/// The hardened libcurl client: TLS checks always on, no redirects, size caps, no proxies or
/// tracing from the environment. The only code that links libcurl. With `shared`, connections, TLS
/// sessions and DNS answers outlive the client (pam_oauth2d keeps them warm between logins).
std::unique_ptr<HttpClient> make_curl_http_client(const HttpSettings& settings, SharedConnections* shared = nullptr);

// A libcurl share handle for a long-lived process: every client made with it reuses the same
// connection pool, TLS session cache and DNS cache, from any thread.
class SharedConnections {
public:
    SharedConnections();
    ~SharedConnections();
    SharedConnections(const SharedConnections&) = delete;
    SharedConnections& operator=(const SharedConnections&) = delete;
    [[nodiscard]] void* handle() const { return share_; }
    /// An easy handle for one request (reused when one is idle), and its return afterwards.
    [[nodiscard]] void* checkout();
    void give_back(void* handle);
    /// Idle easy handles kept; more are cleaned up.
    static constexpr std::size_t max_idle_handles = 64;

private:
    struct Locks;
    std::unique_ptr<Locks> locks_;
    void* share_;
};

} // namespace pam_oauth2
