#pragma once

#include "fallible.hpp"
#include "redis_endpoint.hpp"
#include "redis_tls.hpp"
#include "sealed_entry.hpp"
#include "secure_string.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace pam_oauth2 {

struct DaemonConfig;

// What the daemon needs to use the fleet's shared cache, read once per (re)load: the endpoint, the
// keys derived from the fleet secret (and the previous one), the ACL password, the TLS context. Read
// when the configuration is loaded, so a bad file refuses the start or the reload like any other
// bad key. Connections are opened later, by the store, on first need.
struct SharedCacheSetup {
    shared_cache::RedisEndpoint endpoint;
    shared_cache::FleetKeys keys;
    SecureString password; // empty: no AUTH
    std::shared_ptr<const shared_cache::TlsClientContext> tls;
    std::string prefix;
    std::chrono::milliseconds budget{150};
    std::chrono::milliseconds lease{1000}; // a document's refresh owner; 0: every host fetches its own
};

/// The setup for `config`'s shared_cache keys (their files read through the safe opener: owned by
/// root or by the daemon's user, not writable nor readable by group or others), or why it cannot be
/// used. Never names a secret, only files.
Fallible<std::shared_ptr<const SharedCacheSetup>> load_shared_cache_setup(const DaemonConfig& config);

} // namespace pam_oauth2
