#pragma once

#include <string>

namespace pam_oauth2 {

// A configuration mistake, worded for the administrator who made it (names the key and source).
struct ConfigError {
    std::string message;
    bool in_file = false; // a broken conf= file is logged at LOG_ALERT, a bad argument at LOG_ERR
};

} // namespace pam_oauth2
