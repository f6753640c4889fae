#include "sealed_entry.hpp"

#include <catch2/catch.hpp>

#include <string>

using pam_oauth2::shared_cache::EntryContent;
using pam_oauth2::shared_cache::EntryKey;
using pam_oauth2::shared_cache::FleetKeys;

namespace {

const std::string secret_a(48, 'a');
const std::string secret_b = "a different fleet secret of at least 32 bytes!!";
constexpr std::int64_t now = 1'800'000'000;
const EntryKey verdict{"userinfo", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "conf-1"};

FleetKeys keys(const std::string& current, const std::string& previous = {})
{
    auto derived = FleetKeys::derive(current, previous);
    REQUIRE(derived.ok());
    return std::move(derived).value();
}

EntryContent content(std::int64_t use_by = now + 60)
{
    return EntryContent{now, use_by, R"({"sub":"alice"})"};
}

} // namespace

TEST_CASE("a sealed entry opens under its name with its times and payload")
{
    const auto fleet = keys(secret_a);
    const auto name = fleet.entry_name("po2:", verdict);
    const auto sealed = fleet.seal(name, content());
    REQUIRE(sealed.ok());
    CHECK(sealed.value().find("alice") == std::string::npos);
    const auto opened = fleet.open(name, sealed.value(), now + 1);
    REQUIRE(opened.ok());
    CHECK(opened.value().written_at == now);
    CHECK(opened.value().use_by == now + 60);
    CHECK(opened.value().payload == R"({"sub":"alice"})");
    // A fresh nonce each time: the same content never seals to the same bytes.
    CHECK(fleet.seal(name, content()).value() != sealed.value());
}

TEST_CASE("entry names: the prefix and an HMAC, different for every part and every secret")
{
    const auto fleet = keys(secret_a);
    const auto name = fleet.entry_name("po2:", verdict);
    CHECK(name.rfind("po2:", 0) == 0);
    CHECK(name.size() == 4 + 64);
    CHECK(name.find(verdict.subject_digest) == std::string::npos);
    CHECK(fleet.entry_name("po2:", verdict) == name);
    CHECK(fleet.entry_name("po2:", {"introspect", verdict.subject_digest, verdict.fingerprint}) != name);
    CHECK(fleet.entry_name("po2:", {verdict.kind, "00", verdict.fingerprint}) != name);
    CHECK(fleet.entry_name("po2:", {verdict.kind, verdict.subject_digest, "conf-2"}) != name);
    // Fields are length-prefixed: moving a byte from one field to the next changes the name.
    CHECK(fleet.entry_name("p:", {"ab", "c", "d"}) != fleet.entry_name("p:", {"a", "bc", "d"}));
    CHECK(keys(secret_b).entry_name("po2:", verdict) != name);
}

TEST_CASE("a value that was altered does not open")
{
    const auto fleet = keys(secret_a);
    const auto name = fleet.entry_name("po2:", verdict);
    const auto sealed = fleet.seal(name, content()).value();
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        std::string altered = sealed;
        altered[i] = static_cast<char>(altered[i] ^ 0x01);
        CAPTURE(i);
        CHECK_FALSE(fleet.open(name, altered, now).ok());
    }
    CHECK_FALSE(fleet.open(name, sealed.substr(0, sealed.size() - 1), now).ok());
    CHECK_FALSE(fleet.open(name, sealed + "x", now).ok());
    CHECK_THAT(fleet.open(name, "", now).error(), Catch::Contains("wrong size"));
}

TEST_CASE("a value copied under another entry's name does not open")
{
    const auto fleet = keys(secret_a);
    const auto name = fleet.entry_name("po2:", verdict);
    const auto other = fleet.entry_name("po2:", {"negative", verdict.subject_digest, verdict.fingerprint});
    const auto sealed = fleet.seal(name, content()).value();
    const auto opened = fleet.open(other, sealed, now);
    REQUIRE_FALSE(opened.ok());
    CHECK_THAT(opened.error(), Catch::Contains("does not open"));
}

TEST_CASE("a value sealed under another fleet's secret does not open")
{
    const auto ours = keys(secret_a);
    const auto theirs = keys(secret_b);
    const auto name = ours.entry_name("po2:", verdict);
    const auto opened = ours.open(name, theirs.seal(name, content()).value(), now);
    REQUIRE_FALSE(opened.ok());
    CHECK_THAT(opened.error(), Catch::Contains("a key this host does not hold"));
}

TEST_CASE("a value past its use-by time, or with impossible times, is a miss")
{
    const auto fleet = keys(secret_a);
    const auto name = fleet.entry_name("po2:", verdict);
    const auto sealed = fleet.seal(name, content(now + 60)).value();
    CHECK(fleet.open(name, sealed, now + 59).ok());
    CHECK_THAT(fleet.open(name, sealed, now + 60).error(), Catch::Contains("past its use-by time"));
    CHECK_FALSE(fleet.open(name, sealed, now + 3600).ok());
    // Written far ahead of the reader's clock, or usable before it was written.
    CHECK_THAT(fleet.open(name, sealed, now - 3600).error(), Catch::Contains("impossible times"));
    const auto backwards = fleet.seal(name, EntryContent{now + 10, now + 5, "x"}).value();
    CHECK_THAT(fleet.open(name, backwards, now).error(), Catch::Contains("impossible times"));
}

TEST_CASE("during a rotation a host holding (new, old) opens what a host holding (old) sealed")
{
    const std::string old_secret = secret_a;
    const std::string new_secret = secret_b;
    const auto old_host = keys(old_secret);
    const auto rotating = keys(new_secret, old_secret);
    const auto names = rotating.entry_names("po2:", verdict);
    REQUIRE(names.size() == 2);
    CHECK(names[0] == rotating.entry_name("po2:", verdict));
    CHECK(names[1] == old_host.entry_name("po2:", verdict));
    const auto sealed_by_old = old_host.seal(names[1], content()).value();
    CHECK(rotating.open(names[1], sealed_by_old, now).ok());
    // The rotating host seals under the new secret, which the old host does not hold.
    const auto sealed_by_new = rotating.seal(names[0], content()).value();
    CHECK(keys(new_secret).open(names[0], sealed_by_new, now).ok());
    CHECK_FALSE(old_host.open(names[0], sealed_by_new, now).ok());
    CHECK(rotating.current_key_id() != old_host.current_key_id());
    CHECK(keys(secret_a, secret_a).entry_names("po2:", verdict).size() == 1);
}

TEST_CASE("a secret shorter than 32 bytes is refused, current or previous")
{
    CHECK_THAT(FleetKeys::derive(std::string(31, 'x')).error(), Catch::Contains("at least 32 bytes"));
    CHECK_FALSE(FleetKeys::derive(secret_a, std::string(31, 'x')).ok());
    CHECK(FleetKeys::derive(std::string(32, 'x')).ok());
}

TEST_CASE("a payload over the size bound is not sealed")
{
    const auto fleet = keys(secret_a);
    EntryContent big = content();
    big.payload.assign(FleetKeys::max_payload_bytes + 1, 'x');
    CHECK_FALSE(fleet.seal("n", big).ok());
    big.payload.pop_back();
    const auto sealed = fleet.seal("n", big);
    REQUIRE(sealed.ok());
    CHECK(fleet.open("n", sealed.value(), now).ok());
}
