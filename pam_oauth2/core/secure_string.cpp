#include "secure_string.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

namespace pam_oauth2 {

SecureString::SecureString(std::string_view text)
{
    append(text);
}

SecureString::~SecureString()
{
    clear();
}

SecureString::SecureString(SecureString&& other) noexcept
    : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)), capacity_(std::exchange(other.capacity_, 0))
{
}

SecureString& SecureString::operator=(SecureString&& other) noexcept
{
    if (this != &other) {
        clear();
        data_ = std::move(other.data_);
        size_ = std::exchange(other.size_, 0);
        capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
}

void SecureString::append(std::string_view more)
{
    if (more.empty()) {
        if (!data_) {
            reserve(0);
        }
        return;
    }
    if (size_ + more.size() > capacity_) {
        reserve(std::max(size_ + more.size(), capacity_ * 2));
    }
    std::memcpy(data_.get() + size_, more.data(), more.size());
    size_ += more.size();
    data_[size_] = '\0';
}

void SecureString::reserve(std::size_t capacity)
{
    auto fresh = std::make_unique<char[]>(capacity + 1);
    if (data_) {
        std::memcpy(fresh.get(), data_.get(), size_);
        OPENSSL_cleanse(data_.get(), capacity_ + 1);
    }
    fresh[size_] = '\0';
    data_ = std::move(fresh);
    capacity_ = capacity;
}

void SecureString::clear() noexcept
{
    if (data_) {
        OPENSSL_cleanse(data_.get(), capacity_ + 1);
        data_.reset();
    }
    size_ = 0;
    capacity_ = 0;
}

} // namespace pam_oauth2
