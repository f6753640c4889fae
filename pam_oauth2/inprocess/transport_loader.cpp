#include "transport_loader.hpp"

#include "transport_abi.hpp"

#include <dlfcn.h>
#include <sys/stat.h>

#include <string>

namespace pam_oauth2 {
namespace {

using AbiFunction = int (*)() noexcept;
using CreateFunction = HttpClient* (*)(const HttpSettings*) noexcept;

// Answers every request with the reason the transport could not be loaded.
class MissingTransport final : public HttpClient {
public:
    explicit MissingTransport(std::string reason) : reason_(std::move(reason)) {}
    HttpResult send(const HttpRequest&) override
    {
        HttpResult result;
        result.transport_error = reason_;
        return result;
    }

private:
    std::string reason_;
};

// Owns the helper's client and the dlopen handle; the client is destroyed before the unload.
class LoadedTransport final : public HttpClient {
public:
    LoadedTransport(void* handle, HttpClient* client) : handle_(handle), client_(client) {}
    ~LoadedTransport() override
    {
        client_.reset();
        dlclose(handle_);
    }
    LoadedTransport(const LoadedTransport&) = delete;
    LoadedTransport& operator=(const LoadedTransport&) = delete;
    HttpResult send(const HttpRequest& request) override { return client_->send(request); }

private:
    void* handle_;
    std::unique_ptr<HttpClient> client_;
};

// The helper beside this module (build trees, tests), else where the packages put it: ../pam_oauth2/
// from the PAM directory (/usr/lib/<multiarch>/pam_oauth2 on Debian, /usr/lib64/pam_oauth2 on RPM
// systems). Both are chosen by whoever installed the module; nothing comes from the environment.
std::string helper_path()
{
    Dl_info self{};
    if (dladdr(reinterpret_cast<void*>(&make_loaded_http_client), &self) == 0 || self.dli_fname == nullptr) {
        return transport_file_name;
    }
    const std::string module(self.dli_fname);
    const std::string directory = module.substr(0, module.rfind('/') + 1);
    std::string beside = directory + transport_file_name;
    struct stat st {};
    if (::stat(beside.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        return beside;
    }
    return directory + "../pam_oauth2/" + transport_file_name;
}

} // namespace

std::unique_ptr<HttpClient> make_loaded_http_client(const HttpSettings& settings)
{
    const std::string path = helper_path();
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* error = dlerror();
        return std::make_unique<MissingTransport>("cannot load the HTTP transport " + path + ": " +
                                                  (error != nullptr ? error : "unknown error"));
    }
    auto abi = reinterpret_cast<AbiFunction>(dlsym(handle, "pam_oauth2_transport_abi"));
    auto create = reinterpret_cast<CreateFunction>(dlsym(handle, "pam_oauth2_transport_create"));
    if (abi == nullptr || create == nullptr || abi() != transport_abi_version) {
        dlclose(handle);
        return std::make_unique<MissingTransport>("HTTP transport " + path +
                                                  " does not belong to this build of pam_oauth2.so");
    }
    HttpClient* client = create(&settings);
    if (client == nullptr) {
        dlclose(handle);
        return std::make_unique<MissingTransport>("HTTP transport " + path + " could not create a client");
    }
    return std::make_unique<LoadedTransport>(handle, client);
}

} // namespace pam_oauth2
