#include "pam_context.hpp"

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <cstdio>

namespace pam_oauth2 {
namespace {

constexpr char verdict_key[] = "pam_oauth2_verdict";

void free_verdict(pam_handle_t*, void* data, int)
{
    delete static_cast<StoredVerdict*>(data);
}

std::string item_text(pam_handle_t* pamh, int item)
{
    const void* value = nullptr;
    if (pam_get_item(pamh, item, &value) != PAM_SUCCESS || value == nullptr) {
        return {};
    }
    return static_cast<const char*>(value);
}

} // namespace

Logger PamContext::make_logger(const LogSettings& log, const char* stage) const
{
    pam_handle_t* pamh = pamh_;
    const bool debug = log.debug;
    if (log.target == LogTarget::Stderr) {
        // Same prefix as pam_syslog, so lines read alike in the PostgreSQL log and in the journal.
        const std::string prefix = "pam_oauth2(" + item_text(pamh, PAM_SERVICE) + ":" + stage + "): ";
        return Logger(
            [prefix](int, const std::string& line) {
                static_cast<void>(std::fprintf(stderr, "%s%s\n", prefix.c_str(), line.c_str()));
            },
            debug);
    }
    return Logger([pamh](int priority, const std::string& line) { pam_syslog(pamh, priority, "%s", line.c_str()); },
                  debug);
}

int PamContext::user(std::string& out) const
{
    const char* user = nullptr;
    const int status = pam_get_user(pamh_, &user, nullptr);
    if (status != PAM_SUCCESS) {
        return status;
    }
    if (user == nullptr) {
        return PAM_USER_UNKNOWN;
    }
    out = user;
    return PAM_SUCCESS;
}

int PamContext::token(const ConversationSettings& conversation, SecureString& out) const
{
    const char* token = nullptr;
    int status = PAM_SUCCESS;
    if (conversation.use_first_pass) {
        // Only what an earlier module collected; never prompt.
        const void* item = nullptr;
        status = pam_get_item(pamh_, PAM_AUTHTOK, &item);
        token = static_cast<const char*>(item);
        if (status == PAM_SUCCESS && token == nullptr) {
            status = PAM_AUTHTOK_RECOVERY_ERR;
        }
    } else {
        // Reuses PAM_AUTHTOK when an earlier module set it (try_first_pass behaviour), otherwise asks
        // the conversation with echo off, the only style PostgreSQL answers.
        status = pam_get_authtok(pamh_, PAM_AUTHTOK, &token, conversation.prompt.c_str());
    }
    if (status != PAM_SUCCESS) {
        return status;
    }
    if (token == nullptr) {
        return PAM_AUTHTOK_RECOVERY_ERR;
    }
    out = SecureString(token);
    return PAM_SUCCESS;
}

std::string PamContext::rhost() const
{
    return item_text(pamh_, PAM_RHOST);
}

int PamContext::store_verdict(const StoredVerdict& verdict) const
{
    auto* stored = new StoredVerdict(verdict);
    const int status = pam_set_data(pamh_, verdict_key, stored, free_verdict);
    if (status != PAM_SUCCESS) {
        delete stored;
    }
    return status;
}

std::optional<StoredVerdict> PamContext::stored_verdict() const
{
    const void* data = nullptr;
    if (pam_get_data(pamh_, verdict_key, &data) != PAM_SUCCESS || data == nullptr) {
        return std::nullopt;
    }
    return *static_cast<const StoredVerdict*>(data);
}

} // namespace pam_oauth2
