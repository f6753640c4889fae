// The C front's decision lines (front/decision_line.c) against the core's format_decision: the same
// fields give the same bytes, however hostile the values (C strings: a NUL ends the value in both).
#include "decision_line.h"
#include "logger.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace pam_oauth2;

namespace {

std::string c_line(const DecisionRecord& record)
{
    const struct decision_fields fields = {
        result_word(record.outcome),      record.reason.c_str(), record.user.c_str(), record.method.c_str(),
        record.token_fingerprint.c_str(), record.rhost.c_str(),  record.elapsed_ms};
    std::vector<char> out(4 * (record.reason.size() + record.user.size() + record.rhost.size()) + 256);
    const std::size_t length = decision_line(out.data(), out.size(), &fields);
    REQUIRE(length < out.size());
    return {out.data(), length};
}

} // namespace

TEST_CASE("the C front formats decision lines exactly as format_decision")
{
    const std::vector<std::string> hostile = {
        "",
        "plain",
        "two words",
        "a \"quoted\" word",
        "back\\slash",
        "new\nline and\r\ttabs",
        "key=value",
        "result=granted user=root",
        "\xc3\xa9t\xc3\xa9 \xc2\x85 \x7f \xff", // UTF-8, NEL, DEL, invalid UTF-8
        "-",
    };
    const Outcome outcomes[] = {Outcome::Granted,     Outcome::Denied,        Outcome::Unavailable,
                                Outcome::ConfigError, Outcome::InternalError, Outcome::ConversationAgain};
    for (const auto outcome : outcomes) {
        for (const auto& value : hostile) {
            DecisionRecord record;
            record.outcome = outcome;
            record.reason = value;
            record.user = value;
            record.rhost = value;
            record.method = value.empty() ? "" : "broker";
            record.token_fingerprint = value.empty() ? "" : "sha256:3f9a1c0e";
            record.elapsed_ms = static_cast<long>(value.size());
            INFO(format_decision(record));
            CHECK(c_line(record) == format_decision(record));
        }
    }
}

TEST_CASE("a C decision line that does not fit is cut and still terminated")
{
    const struct decision_fields fields = {"denied", "a long reason", nullptr, nullptr, nullptr, nullptr, 0};
    char small[16];
    const std::size_t length = decision_line(small, sizeof small, &fields);
    CHECK(length > sizeof small);
    CHECK(std::string(small) == std::string("result=denied reason=\"a long reason\"").substr(0, 15));
    CHECK(decision_line(nullptr, 0, &fields) == length);
}
