#pragma once

#include "broker_service.hpp"
#include "daemon_config.hpp"
#include "logger.hpp"
#include "metrics.hpp"

#include <string>

namespace pam_oauth2 {

// pam_oauth2d's process: the listening socket (systemd's, or one it creates), privileges dropped,
// one thread per connection up to max_clients, SIGHUP reloads the configuration file, SIGTERM and
// SIGINT stop it. Returns the process exit status.
int run_daemon(const std::string& config_path, const DaemonConfig& config, const Logger& logger);

} // namespace pam_oauth2
