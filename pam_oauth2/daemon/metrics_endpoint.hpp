#pragma once

#include "metrics.hpp"

#include <memory>
#include <string>
#include <variant>

namespace pam_oauth2 {

// Serves Metrics::text() to whoever connects (a Prometheus scrape, curl), on a loopback port or a
// Unix socket, from a thread of its own. Up to 32 connections are served at once and none for more
// than 2 s, so a local user who connects and stays silent cannot stall a scrape. Opened before
// privileges are dropped.
class MetricsEndpoint {
public:
    /// `where` is "unix:/path" or "HOST:PORT" (loopback; checked by the configuration).
    static std::variant<std::unique_ptr<MetricsEndpoint>, std::string> open(const std::string& where,
                                                                            const Metrics& metrics);

private:
    MetricsEndpoint() = default;
};

} // namespace pam_oauth2
