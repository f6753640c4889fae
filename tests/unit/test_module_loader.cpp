// The C loader both dlopen hops use (pam_oauth2/loader/module_loader.c, compiled as C): where it
// looks, what it refuses, and that the real verifier and transport answer this build's stamp.
#include "module_loader.h"
#include "pam_oauth2_abi_stamp.h"

#include <catch2/catch.hpp>

#include <climits>
#include <cstdlib>
#include <string>

namespace {

const module_spec transport{"HTTP transport", "pam_oauth2_transport.so", "pam_oauth2_transport_abi",
                            "pam_oauth2_transport_create"};
const module_spec verifier{"verifier", "pam_oauth2_inprocess.so", "pam_oauth2_inprocess_abi",
                           "pam_oauth2_inprocess_authenticate"};

struct Attempt {
    int result = 0;
    loaded_module module{};
    std::string why;
};

Attempt load_path(const module_spec& spec, const std::string& path, int stamp = PAM_OAUTH2_ABI_STAMP)
{
    Attempt attempt;
    char why[600] = "";
    attempt.result = module_load_path(&spec, path.c_str(), stamp, &attempt.module, why, sizeof why);
    attempt.why = why;
    return attempt;
}

std::string real_path(const std::string& path)
{
    char resolved[PATH_MAX];
    return ::realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : std::string();
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("the loader opens a module of this build and hands back its entry point")
{
    Attempt loaded = load_path(transport, PAM_OAUTH2_TEST_STAMP_RIGHT);
    REQUIRE(loaded.result == 0);
    CHECK(loaded.why.empty());
    REQUIRE(loaded.module.handle != nullptr);
    REQUIRE(loaded.module.entry != nullptr);
    // The stand-in's transport entry point refuses to create a client.
    const auto create = reinterpret_cast<void* (*)(const void*)>(loaded.module.entry);
    CHECK(create(nullptr) == nullptr);
    module_unload(&loaded.module);
    CHECK(loaded.module.handle == nullptr);
    CHECK(loaded.module.entry == nullptr);
    module_unload(&loaded.module); // nothing held: nothing happens
}

TEST_CASE("the loader refuses a module built with another ABI stamp, naming both stamps")
{
    for (const module_spec* spec : {&transport, &verifier}) {
        const Attempt refused = load_path(*spec, PAM_OAUTH2_TEST_STAMP_WRONG);
        CHECK(refused.result == -1);
        CHECK(refused.module.handle == nullptr);
        CHECK(refused.module.entry == nullptr);
        CHECK(contains(refused.why, std::string("the ") + spec->what + " " + PAM_OAUTH2_TEST_STAMP_WRONG +
                                        " does not belong to this build of pam_oauth2.so"));
        char expected[16];
        std::snprintf(expected, sizeof expected, "%08x", static_cast<unsigned>(PAM_OAUTH2_ABI_STAMP));
        CHECK(contains(refused.why, std::string("expected ") + expected));
    }
    // The same module is accepted by a loader that expects its stamp.
    Attempt other = load_path(transport, PAM_OAUTH2_TEST_STAMP_WRONG, PAM_OAUTH2_ABI_STAMP ^ 1);
    CHECK(other.result == 0);
    module_unload(&other.module);
}

TEST_CASE("the loader refuses a module without the entry points")
{
    const Attempt refused = load_path(verifier, PAM_OAUTH2_TEST_STAMP_NO_ENTRY);
    CHECK(refused.result == -1);
    CHECK(refused.module.handle == nullptr);
    CHECK(contains(refused.why, "does not belong to this build of pam_oauth2.so"));
    CHECK(contains(refused.why, "pam_oauth2_inprocess_authenticate"));
}

TEST_CASE("the loader names what it could not open and why")
{
    const Attempt missing = load_path(verifier, "/nonexistent/pam_oauth2_inprocess.so");
    CHECK(missing.result == -1);
    CHECK(missing.module.handle == nullptr);
    CHECK(contains(missing.why, "cannot load the verifier /nonexistent/pam_oauth2_inprocess.so: "));
    CHECK(contains(missing.why, "No such file"));
}

TEST_CASE("the loader looks beside the program it is linked into, then in ../pam_oauth2/")
{
    // dladdr names the program as it was started (perhaps a relative path): compare real paths.
    const std::string here = real_path(PAM_OAUTH2_TEST_PROGRAM_DIR);
    char path[4096];
    module_path("test_stamp_right.so", path, sizeof path);
    CHECK(real_path(path) == here + "/test_stamp_right.so");
    module_path("not_built_here.so", path, sizeof path);
    const std::string fallback = path;
    const std::string tail = "/../pam_oauth2/not_built_here.so";
    REQUIRE(fallback.size() > tail.size());
    CHECK(fallback.substr(fallback.size() - tail.size()) == tail);
    CHECK(real_path(fallback.substr(0, fallback.size() - tail.size())) == here);

    const module_spec beside{"stand-in", "test_stamp_right.so", "pam_oauth2_inprocess_abi",
                             "pam_oauth2_inprocess_authenticate"};
    loaded_module module{};
    char why[600] = "";
    REQUIRE(module_load(&beside, &module, why, sizeof why) == 0);
    module_unload(&module);
}

TEST_CASE("the verifier and the transport of this build answer its ABI stamp")
{
    for (const auto& [spec, path] :
         {std::pair{&verifier, PAM_OAUTH2_TEST_INPROCESS}, std::pair{&transport, PAM_OAUTH2_TEST_TRANSPORT}}) {
        Attempt loaded = load_path(*spec, path);
        CHECK(loaded.result == 0);
        CHECK(loaded.why.empty());
        module_unload(&loaded.module);
    }
}
