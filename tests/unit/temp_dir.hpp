#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace pam_oauth2::testing {

// A private temporary directory, removed with everything in it when the test ends.
struct TempDir {
    std::string path;
    TempDir()
    {
        char pattern[] = "/tmp/pam_oauth2_test_XXXXXX";
        REQUIRE(mkdtemp(pattern) != nullptr);
        path = pattern;
    }
    ~TempDir()
    {
        // Best effort: a directory left in /tmp must not fail a test that passed.
        if (std::system(("rm -rf " + path).c_str()) != 0) {
            return;
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

} // namespace pam_oauth2::testing
