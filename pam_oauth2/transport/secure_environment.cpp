#include "secure_environment.hpp"

#include <sys/auxv.h>
#include <unistd.h>

extern char** environ; // NOLINT(readability-redundant-declaration): unistd.h declares it only with _GNU_SOURCE

namespace pam_oauth2 {
namespace {

char* empty_environment[] = {nullptr};

} // namespace

SecureEnvironmentScope::SecureEnvironmentScope() noexcept
{
    if (getauxval(AT_SECURE) != 0) {
        saved_ = environ;
        environ = empty_environment;
        hidden_ = true;
    }
}

SecureEnvironmentScope::~SecureEnvironmentScope()
{
    if (hidden_) {
        environ = saved_;
    }
}

} // namespace pam_oauth2
