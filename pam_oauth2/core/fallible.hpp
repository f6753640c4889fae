#pragma once

#include <string>
#include <utility>
#include <variant>

namespace pam_oauth2 {

/// Why a step could not produce its value, as a sentence fit for a log line. A type of its own, so a
/// Fallible<std::string> cannot mistake its reason for its value.
struct Failure {
    std::string reason;
};

/// A value, or the Failure that stands in for it. Built implicitly from either
/// (`return path;`, `return Failure{"cannot read " + path};`); read with ok(), then value() or error().
/// value() on a failure and error() on a success throw std::bad_variant_access.
template <typename T> class [[nodiscard]] Fallible {
public:
    // Implicit on purpose: `return value;` and `return Failure{...};` read as what they are.
    Fallible(T value) : state_(std::in_place_index<0>, std::move(value)) {} // NOLINT(google-explicit-constructor)
    Fallible(Failure failure)
        : state_(std::in_place_index<1>, std::move(failure)) {} // NOLINT(google-explicit-constructor)

    /// True when a value is held.
    [[nodiscard]] bool ok() const noexcept { return state_.index() == 0; }
    /// The value; only when ok().
    [[nodiscard]] const T& value() const& { return std::get<0>(state_); }
    /// The value, to move from or modify; only when ok().
    [[nodiscard]] T& value() & { return std::get<0>(state_); }
    /// The value of a temporary; only when ok().
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(state_)); }
    /// Why there is no value; only when !ok().
    [[nodiscard]] const std::string& error() const { return std::get<1>(state_).reason; }

private:
    std::variant<T, Failure> state_;
};

} // namespace pam_oauth2
