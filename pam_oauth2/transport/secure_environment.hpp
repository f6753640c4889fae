#pragma once

namespace pam_oauth2 {

// While one of these lives, a setuid or setgid process (AT_SECURE: sudo, su, any setuid program that
// uses PAM) has an empty environment. libcurl reads variables such as SSLKEYLOGFILE with plain
// getenv: the user who started the program must not decide which file root writes TLS secrets to,
// or anything else about the transport. Other processes keep their environment untouched.
class SecureEnvironmentScope {
public:
    SecureEnvironmentScope() noexcept;
    ~SecureEnvironmentScope();
    SecureEnvironmentScope(const SecureEnvironmentScope&) = delete;
    SecureEnvironmentScope& operator=(const SecureEnvironmentScope&) = delete;

private:
    char** saved_ = nullptr;
    bool hidden_ = false;
};

} // namespace pam_oauth2
