#include "outcome.hpp"

#include <catch2/catch.hpp>
#include <security/_pam_types.h>

using pam_oauth2::Outcome;

TEST_CASE("every outcome maps to the PAM code of DESIGN.md section 2")
{
    CHECK(pam_oauth2::to_pam_code(Outcome::Granted) == PAM_SUCCESS);
    CHECK(pam_oauth2::to_pam_code(Outcome::Denied) == PAM_AUTH_ERR);
    CHECK(pam_oauth2::to_pam_code(Outcome::Unavailable) == PAM_AUTHINFO_UNAVAIL);
    CHECK(pam_oauth2::to_pam_code(Outcome::ConfigError) == PAM_SERVICE_ERR);
    CHECK(pam_oauth2::to_pam_code(Outcome::OutOfMemory) == PAM_BUF_ERR);
    CHECK(pam_oauth2::to_pam_code(Outcome::ConversationAgain) == PAM_INCOMPLETE);
    CHECK(pam_oauth2::to_pam_code(Outcome::InternalError) == PAM_SYSTEM_ERR);
}

TEST_CASE("only Granted maps to success")
{
    for (const auto outcome : {Outcome::Denied, Outcome::Unavailable, Outcome::ConfigError, Outcome::OutOfMemory,
                               Outcome::ConversationAgain, Outcome::InternalError}) {
        CHECK(pam_oauth2::to_pam_code(outcome) != PAM_SUCCESS);
        CHECK(std::string(pam_oauth2::result_word(outcome)) != "granted");
    }
}
