// One request through the libcurl client, for test_transport.py: what the client made of the answer,
// one field a line. Built twice, against the default transport and against the one with the
// libcurl 7.76 code paths forced, so both pass the same cases.
//     transport_probe URL [--allow-http] [--ca-file FILE] [--post]
#include "curl_http_client.hpp"
#include "curl_protocols.hpp"

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: transport_probe URL [--allow-http] [--ca-file FILE] [--post]\n";
        return 2;
    }
    pam_oauth2::HttpSettings settings;
    pam_oauth2::HttpRequest request;
    request.url = argv[1];
    const pam_oauth2::SecureString field("value");
    for (int i = 2; i < argc; ++i) {
        if (std::strcmp(argv[i], "--allow-http") == 0) {
            settings.allow_http = true;
        } else if (std::strcmp(argv[i], "--ca-file") == 0 && i + 1 < argc) {
            settings.ca_file = argv[++i];
        } else if (std::strcmp(argv[i], "--post") == 0) {
            request.form_fields.emplace_back("field", &field);
        } else {
            std::cerr << "transport_probe: unknown argument " << argv[i] << "\n";
            return 2;
        }
    }
    try {
        const auto client = pam_oauth2::make_curl_http_client(settings);
        const pam_oauth2::HttpResult result = client->send(request);
        std::printf("protocols=%s\n", pam_oauth2::protocol_restriction_option());
        std::printf("transport_ok=%d\nstatus=%ld\n", result.transport_ok ? 1 : 0, result.status);
        std::printf("error=%s\n", result.transport_error.c_str());
        std::printf("cache_control=%s\ndate=%lld\n", result.cache_control.c_str(), result.date);
        std::printf("body=%s\n", std::string(result.body.view()).c_str());
    } catch (const std::exception& error) {
        std::cerr << "transport_probe: " << error.what() << "\n";
        return 1;
    }
    return 0;
}
