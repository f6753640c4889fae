#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <memory>
#include <string_view>

namespace pam_oauth2 {

// A byte buffer for secrets (access tokens, client secrets, bodies that carry them). Its bytes are
// wiped with OPENSSL_cleanse whenever storage is released, it is move-only so no stray copy outlives
// the original, and it is always NUL-terminated so libcurl can take it without another copy.
class SecureString {
public:
    SecureString() = default;
    explicit SecureString(std::string_view text);
    ~SecureString();

    SecureString(const SecureString&) = delete;
    SecureString& operator=(const SecureString&) = delete;
    SecureString(SecureString&& other) noexcept;
    SecureString& operator=(SecureString&& other) noexcept;

    /// Appends bytes, growing geometrically; the old storage is wiped before it is freed.
    void append(std::string_view more);
    /// Wipes and releases the contents.
    void clear() noexcept;

    [[nodiscard]] std::string_view view() const noexcept { return {data_.get() ? data_.get() : "", size_}; }
    [[nodiscard]] const char* c_str() const noexcept { return data_ ? data_.get() : ""; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

private:
    void reserve(std::size_t capacity);

    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

// Wipes a temporary buffer (a std::string or std::vector of bytes) that held secret bytes when the
// scope ends, on every path out: decoded signature bytes must not stay behind in freed memory.
template <typename Buffer> class WipeOnExit {
public:
    explicit WipeOnExit(Buffer& buffer) noexcept : buffer_(buffer) {}
    ~WipeOnExit() { OPENSSL_cleanse(buffer_.data(), buffer_.size()); }
    WipeOnExit(const WipeOnExit&) = delete;
    WipeOnExit& operator=(const WipeOnExit&) = delete;

private:
    Buffer& buffer_;
};

} // namespace pam_oauth2
