#include "network.hpp"

#include "transport_abi.hpp"
#include "transport_loader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <utility>

#ifndef PAM_OAUTH2_TRANSPORT_DIR
#error "PAM_OAUTH2_TRANSPORT_DIR: the installed directory of pam_oauth2_transport.so (cmake/Packaging.cmake)"
#endif

namespace pam_oauth2::token {
namespace {

// Loads the transport on the first send; every later send goes to the same client.
class LazyNetwork final : public HttpClient {
public:
    explicit LazyNetwork(HttpSettings settings) : settings_(std::move(settings)) {}
    HttpResult send(const HttpRequest& request) override
    {
        if (!loaded_) {
            loaded_ = make_loaded_http_client_at(settings_, transport_path());
        }
        return loaded_->send(request);
    }

private:
    HttpSettings settings_;
    std::unique_ptr<HttpClient> loaded_;
};

bool regular_file(const std::string& path)
{
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

} // namespace

std::string transport_path()
{
    char self[PATH_MAX];
    const ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (length > 0) {
        const std::string program(self, static_cast<std::size_t>(length));
        std::string beside = program.substr(0, program.rfind('/') + 1) + "../pam_oauth2/" + transport_file_name;
        if (regular_file(beside)) {
            return beside;
        }
    }
    return std::string(PAM_OAUTH2_TRANSPORT_DIR) + "/" + transport_file_name;
}

std::unique_ptr<HttpClient> make_network(const HttpSettings& settings)
{
    return std::make_unique<LazyNetwork>(settings);
}

} // namespace pam_oauth2::token
