#include "shared_refusal.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

using namespace pam_oauth2;

namespace {

Decision denial()
{
    Decision decision;
    decision.outcome = Outcome::Denied;
    decision.reason = "userinfo endpoint refused the token (HTTP 401)";
    decision.method = "userinfo";
    decision.user_loggable = true;
    decision.valid_until = 2000000000;
    decision.identity = TokenIdentity{"https://idp", "id-alice", "", "psql", {"postgres"}, "", 1999999990};
    return decision;
}

// A configuration read from one file at `path`, with the identity the file has now.
Configuration read_from(const std::string& path)
{
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    Configuration configuration;
    configuration.files.push_back(SourceFile{path, FileIdentity{st.st_dev, st.st_ino, st.st_size, st.st_mtim}});
    return configuration;
}

} // namespace

TEST_CASE("shared refusal: a denial goes through whole, anything else is not a refusal")
{
    const auto decoded = decode_refusal(encode_refusal(denial()));
    REQUIRE(decoded);
    CHECK(decoded->outcome == Outcome::Denied);
    CHECK(decoded->reason == denial().reason);
    CHECK(decoded->method == "userinfo");
    CHECK(decoded->user_loggable);
    CHECK(decoded->valid_until == 2000000000);
    REQUIRE(decoded->identity);
    CHECK(decoded->identity->subject == "id-alice");
    CHECK(decoded->identity->audience == std::vector<std::string>{"postgres"});
    CHECK(decoded->identity->expires_at == 1999999990);

    CHECK_FALSE(decode_refusal(""));
    CHECK_FALSE(decode_refusal("[]"));
    CHECK_FALSE(decode_refusal(R"({"format":1,"outcome":"granted","reason":"x","method":"","user_loggable":false})"));
    CHECK_FALSE(decode_refusal(R"({"format":2,"outcome":"denied","reason":"x","method":"","user_loggable":false})"));
    CHECK_FALSE(decode_refusal(R"({"format":1,"outcome":"denied","reason":"","method":"","user_loggable":false})"));
    CHECK_FALSE(decode_refusal(R"({"format":1,"outcome":"denied","reason":"x","method":""})"));
    CHECK_FALSE(decode_refusal(
        R"({"format":1,"outcome":"denied","reason":"x","method":"","user_loggable":false,"identity":{"aud":[1]}})"));
    CHECK(decode_refusal(R"({"format":1,"outcome":"denied","reason":"x","method":"","user_loggable":false})"));
}

TEST_CASE("shared refusal: it lives negative_cache seconds, never past the token's exp")
{
    Decision decision = denial();
    CHECK(refusal_use_by(decision, 5, 1999999980) == 1999999985);
    CHECK(refusal_use_by(decision, 30, 1999999980) == 1999999990); // exp
    decision.identity.reset();
    CHECK(refusal_use_by(decision, 60, 1999999980) == 2000000000); // valid_until when no identity
    decision.valid_until.reset();
    CHECK(refusal_use_by(decision, 5, 100) == 105);
}

TEST_CASE("shared refusal: the name covers arguments, files and user, not where the daemon listens")
{
    char directory[] = "/tmp/pam_oauth2_refusal_XXXXXX";
    REQUIRE(::mkdtemp(directory) != nullptr);
    const std::string path = std::string(directory) + "/a.conf";
    std::ofstream(path) << "verify = userinfo\n";
    const Configuration configuration = read_from(path);
    const std::vector<std::string> args = {"conf=" + path, "broker=/run/a.sock", "broker_fallback=deny"};
    const auto base = refusal_fingerprint(args, configuration, "alice");
    REQUIRE(base);
    CHECK(refusal_fingerprint({"conf=" + path, "broker=/run/b.sock"}, configuration, "alice") == base);
    CHECK(refusal_fingerprint({"conf=" + path, "username_claim=sub"}, configuration, "alice") != base);
    CHECK(refusal_fingerprint(args, configuration, "bob") != base);
    CHECK(refusal_fingerprint(args, Configuration{}, "alice") != base);
    // The same arguments with other file content: another name; a file changed since it was read: none.
    std::ofstream(path) << "verify = introspect\n";
    const auto other = refusal_fingerprint(args, read_from(path), "alice");
    REQUIRE(other);
    CHECK(other != base);
    CHECK_FALSE(refusal_fingerprint(args, configuration, "alice"));
    ::unlink(path.c_str());
    CHECK_FALSE(refusal_fingerprint(args, read_from(directory), "alice")); // a directory does not read whole
    ::rmdir(directory);
}
