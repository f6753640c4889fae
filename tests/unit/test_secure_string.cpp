#include "jws.hpp"
#include "secure_string.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <type_traits>
#include <vector>

using pam_oauth2::CompactJws;
using pam_oauth2::SecureString;
using pam_oauth2::WipeOnExit;

TEST_CASE("SecureString keeps its bytes across growth and moves")
{
    SecureString value("abc");
    for (int i = 0; i < 100; ++i) {
        value.append("0123456789");
    }
    CHECK(value.size() == 1003);
    CHECK(value.view().substr(0, 5) == "abc01");
    CHECK(std::string(value.c_str()).size() == 1003);

    SecureString moved(std::move(value));
    CHECK(moved.size() == 1003);
    CHECK(value.empty()); // NOLINT(bugprone-use-after-move): the moved-from state is part of the contract
    CHECK(std::string(value.c_str()).empty());

    moved.clear();
    CHECK(moved.empty());
    CHECK(std::string(moved.c_str()).empty());
}

TEST_CASE("an empty SecureString is a valid empty C string")
{
    const SecureString empty;
    CHECK(empty.c_str() != nullptr);
    CHECK(empty.view().empty());
}

TEST_CASE("review #15: temporaries that held signature bytes are wiped, and parsed signatures live in SecureString")
{
    std::string decoded = "signature-bytes";
    {
        const WipeOnExit<std::string> wipe(decoded);
    }
    CHECK(decoded == std::string(15, '\0'));
    std::vector<unsigned char> raw{1, 2, 3};
    {
        const WipeOnExit<std::vector<unsigned char>> wipe(raw);
    }
    CHECK(raw == std::vector<unsigned char>{0, 0, 0});
    static_assert(std::is_same_v<decltype(CompactJws::signature), SecureString>);
}
