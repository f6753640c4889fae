#include "transport_loader.hpp"

#include "module_loader.h"
#include "pam_oauth2_abi_stamp.h"
#include "transport_abi.hpp"

#include <string>

namespace pam_oauth2 {
namespace {

using CreateFunction = HttpClient* (*)(const HttpSettings*) noexcept;

const module_spec transport{"HTTP transport", transport_file_name, "pam_oauth2_transport_abi",
                            "pam_oauth2_transport_create"};

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

// Owns the helper's client and the loaded helper; the client is destroyed before the unload.
class LoadedTransport final : public HttpClient {
public:
    LoadedTransport(loaded_module module, HttpClient* client) : module_(module), client_(client) {}
    ~LoadedTransport() override
    {
        client_.reset();
        module_unload(&module_);
    }
    LoadedTransport(const LoadedTransport&) = delete;
    LoadedTransport& operator=(const LoadedTransport&) = delete;
    HttpResult send(const HttpRequest& request) override { return client_->send(request); }

private:
    loaded_module module_;
    std::unique_ptr<HttpClient> client_;
};

} // namespace

std::unique_ptr<HttpClient> make_loaded_http_client(const HttpSettings& settings)
{
    char path[4096];
    module_path(transport_file_name, path, sizeof path);
    return make_loaded_http_client_at(settings, path);
}

std::unique_ptr<HttpClient> make_loaded_http_client_at(const HttpSettings& settings, const std::string& path)
{
    loaded_module module{};
    char why[600];
    if (module_load_path(&transport, path.c_str(), PAM_OAUTH2_ABI_STAMP, &module, why, sizeof why) != 0) {
        return std::make_unique<MissingTransport>(why);
    }
    // The entry point has this type (transport_entry.cpp); the loader hands it back untyped.
    const auto create = reinterpret_cast<CreateFunction>(module.entry);
    HttpClient* client = create(&settings);
    if (client == nullptr) {
        module_unload(&module);
        return std::make_unique<MissingTransport>("HTTP transport " + path + " could not create a client");
    }
    return std::make_unique<LoadedTransport>(module, client);
}

} // namespace pam_oauth2
