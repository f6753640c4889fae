#include "curl_http_client.hpp"

#include "curl_protocols.hpp"
#include "response_headers.hpp"
#include "secure_environment.hpp"

#include <curl/curl.h>
#include <openssl/crypto.h>

#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace pam_oauth2 {
namespace {

// curl_global_init is thread-safe only from 7.84 on (RHEL 9 has 7.76); call_once keeps it to one
// call per load of the module. curl_global_cleanup is never called: libcurl may be shared with the host process.
std::once_flag curl_initialised;

void initialise_curl()
{
    std::call_once(curl_initialised, [] {
        // libcurl opens SSLKEYLOGFILE here; in a setuid process it must see no environment.
        const SecureEnvironmentScope hidden;
        curl_global_init(CURL_GLOBAL_DEFAULT);
    });
}

struct BodySink {
    SecureString* body;
    bool too_large = false;
};

std::size_t collect_body(char* data, std::size_t size, std::size_t count, void* user)
{
    auto* sink = static_cast<BodySink*>(user);
    const std::size_t bytes = size * count;
    // Enforced here as well as by CURLOPT_MAXFILESIZE, which only sees a declared Content-Length.
    if (sink->body->size() + bytes > max_response_bytes) {
        sink->too_large = true;
        return 0;
    }
    sink->body->append(std::string_view(data, bytes));
    return bytes;
}

// libcurl hands over each header line of every block (1xx ones included) and trailers; the
// collector keeps what the answer's own block says (curl_easy_header, 7.83, is not in 7.76).
std::size_t collect_header(char* data, std::size_t size, std::size_t count, void* user)
{
    const std::size_t bytes = size * count;
    try {
        static_cast<ResponseHeaders*>(user)->take_line(std::string_view(data, bytes));
    } catch (...) {
        return 0; // out of memory: libcurl ends the transfer, and no exception unwinds through C
    }
    return bytes;
}

// One easy handle for one request: a fresh one, or (in a long-lived process) one of the shared pool,
// reset and returned afterwards so its internal state (and the multi handle libcurl keeps inside it)
// is not rebuilt for every request.
class CurlHandle {
public:
    explicit CurlHandle(SharedConnections* shared)
        : shared_(shared), handle_(shared != nullptr ? static_cast<CURL*>(shared->checkout()) : curl_easy_init())
    {
    }
    ~CurlHandle()
    {
        if (handle_ == nullptr) {
            return;
        }
        if (shared_ != nullptr) {
            shared_->give_back(handle_);
        } else {
            curl_easy_cleanup(handle_);
        }
    }
    CurlHandle(const CurlHandle&) = delete;
    CurlHandle& operator=(const CurlHandle&) = delete;
    [[nodiscard]] CURL* get() const { return handle_; }

private:
    SharedConnections* shared_;
    CURL* handle_;
};

class HeaderList {
public:
    HeaderList() = default;
    ~HeaderList() { curl_slist_free_all(list_); }
    HeaderList(const HeaderList&) = delete;
    HeaderList& operator=(const HeaderList&) = delete;
    bool add(const char* header)
    {
        curl_slist* grown = curl_slist_append(list_, header);
        if (grown == nullptr) {
            return false;
        }
        list_ = grown;
        return true;
    }
    [[nodiscard]] curl_slist* get() const { return list_; }

private:
    curl_slist* list_ = nullptr;
};

// Form-encodes with libcurl and keeps the result in wiped memory (it may be the token).
bool append_escaped(CURL* curl, SecureString& out, std::string_view value)
{
    char* escaped = curl_easy_escape(curl, value.data(), static_cast<int>(value.size()));
    if (escaped == nullptr) {
        return false;
    }
    const std::size_t length = std::strlen(escaped);
    out.append(std::string_view(escaped, length));
    OPENSSL_cleanse(escaped, length);
    curl_free(escaped);
    return true;
}

// What libcurl reads while the request runs: kept alive (and wiped) until curl_easy_perform returns.
struct RequestBuffers {
    HeaderList headers;
    SecureString form_body;
    SecureString basic_user;
    SecureString basic_password;
};

// The bearer token or the Basic credentials, set so that no secret is ever placed in a URL.
bool set_credentials(CURL* curl, const HttpRequest& request, RequestBuffers& buffers)
{
    bool ok = true;
    if (request.bearer_token != nullptr) {
        // libcurl builds the Authorization header itself: the token is never concatenated
        // into a header string of ours, and never placed in a URL.
        ok = curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, request.bearer_token->c_str()) == CURLE_OK;
    }
    if (ok && request.basic_password != nullptr) {
        ok = append_escaped(curl, buffers.basic_user, request.basic_user) &&
             append_escaped(curl, buffers.basic_password, request.basic_password->view()) &&
             curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_USERNAME, buffers.basic_user.c_str()) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_PASSWORD, buffers.basic_password.c_str()) == CURLE_OK;
    }
    return ok;
}

// The form fields, url-encoded into a wiped buffer, as a POST body (none: the request stays a GET).
bool set_form(CURL* curl, const HttpRequest& request, RequestBuffers& buffers)
{
    if (request.form_fields.empty()) {
        return true;
    }
    bool ok = true;
    SecureString& form_body = buffers.form_body;
    for (const auto& [name, value] : request.form_fields) {
        if (!form_body.empty()) {
            form_body.append("&");
        }
        ok = ok && append_escaped(curl, form_body, name);
        form_body.append("=");
        ok = ok && append_escaped(curl, form_body, value != nullptr ? value->view() : std::string_view{});
    }
    // CURLOPT_POSTFIELDS (not COPYPOSTFIELDS): libcurl reads our wiped buffer in place.
    return ok && buffers.headers.add("Content-Type: application/x-www-form-urlencoded") &&
           curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(form_body.size())) == CURLE_OK &&
           curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form_body.c_str()) == CURLE_OK;
}

// Why a performed request has no answer: too large, or libcurl's reason with its detail.
std::string transfer_error(CURLcode code, const BodySink& sink, const char* error_buffer)
{
    if (sink.too_large || code == CURLE_FILESIZE_EXCEEDED) {
        return "answer larger than " + std::to_string(max_response_bytes) + " bytes";
    }
    std::string error(curl_easy_strerror(code));
    if (error_buffer[0] != '\0' && error != error_buffer) {
        error += ": ";
        error += error_buffer;
    }
    return error;
}

// The status and the two headers the core reads (Cache-Control for the document cache, Date for the trace).
void read_answer(CURL* curl, const ResponseHeaders& headers, HttpResult& result)
{
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
    result.cache_control = headers.cache_control();
    if (!headers.date().empty()) {
        const time_t parsed = curl_getdate(headers.date().c_str(), nullptr);
        result.date = parsed > 0 ? static_cast<long long>(parsed) : 0;
    }
}

class CurlHttpClient final : public HttpClient {
public:
    CurlHttpClient(HttpSettings settings, SharedConnections* shared) : settings_(std::move(settings)), shared_(shared)
    {
        initialise_curl();
    }

    HttpResult send(const HttpRequest& request) override
    {
        HttpResult result;
        const CurlHandle handle(shared_);
        CURL* curl = handle.get();
        if (curl == nullptr) {
            result.transport_error = "cannot create a libcurl handle";
            return result;
        }
        char error_buffer[CURL_ERROR_SIZE] = {};
        BodySink sink{&result.body};
        ResponseHeaders headers;
        RequestBuffers buffers;
        const bool ok = buffers.headers.add("Accept: application/json") && configure_transport(curl, error_buffer) &&
                        curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str()) == CURLE_OK &&
                        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body) == CURLE_OK &&
                        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink) == CURLE_OK &&
                        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header) == CURLE_OK &&
                        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers) == CURLE_OK &&
                        set_credentials(curl, request, buffers) && set_form(curl, request, buffers) &&
                        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, buffers.headers.get()) == CURLE_OK;
        if (!ok) {
            result.transport_error = "cannot configure the libcurl request";
            return result;
        }
        CURLcode code = CURLE_OK;
        {
            const SecureEnvironmentScope hidden;
            code = curl_easy_perform(curl);
        }
        if (sink.too_large || code != CURLE_OK) {
            result.transport_error = transfer_error(code, sink, error_buffer);
            result.body.clear();
            return result;
        }
        read_answer(curl, headers, result);
        result.transport_ok = true;
        return result;
    }

private:
    bool configure_transport(CURL* curl, char* error_buffer) const
    {
        // Trust anchors: only what the administrator named, else the hashed system directory, which
        // OpenSSL reads lazily (one file per issuer) instead of parsing the whole bundle (~30 ms).
        const char* ca_file = settings_.ca_file.empty() ? nullptr : settings_.ca_file.c_str();
        const char* ca_path = !settings_.ca_path.empty() ? settings_.ca_path.c_str()
                              : ca_file == nullptr       ? "/etc/ssl/certs"
                                                         : nullptr;
        return curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
               restrict_protocols(curl, settings_.allow_http) &&
               curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_CAPATH, ca_path) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, settings_.timeout_ms) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, settings_.connect_timeout_ms) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_response_bytes)) ==
                   CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_USERAGENT, "pam_oauth2") == CURLE_OK &&
               // Identity provider answers are small; no proxy from the environment of the host process.
               curl_easy_setopt(curl, CURLOPT_PROXY, "") == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_VERBOSE, 0L) == CURLE_OK &&
               (shared_ == nullptr || curl_easy_setopt(curl, CURLOPT_SHARE, shared_->handle()) == CURLE_OK);
    }

    HttpSettings settings_;
    SharedConnections* shared_;
};

} // namespace

std::unique_ptr<HttpClient> make_curl_http_client(const HttpSettings& settings, SharedConnections* shared)
{
    return std::make_unique<CurlHttpClient>(settings, shared);
}

struct SharedConnections::Locks {
    std::mutex of[CURL_LOCK_DATA_LAST];
    std::mutex idle_mutex;
    std::vector<CURL*> idle; // easy handles between requests, reset
};

void* SharedConnections::checkout()
{
    {
        const std::lock_guard<std::mutex> lock(locks_->idle_mutex);
        if (!locks_->idle.empty()) {
            CURL* handle = locks_->idle.back();
            locks_->idle.pop_back();
            return handle;
        }
    }
    return curl_easy_init();
}

void SharedConnections::give_back(void* handle)
{
    // Reset drops every option of the request (the token included); the connection stays in the share.
    curl_easy_reset(static_cast<CURL*>(handle));
    const std::lock_guard<std::mutex> lock(locks_->idle_mutex);
    if (locks_->idle.size() < max_idle_handles) {
        locks_->idle.push_back(static_cast<CURL*>(handle));
        return;
    }
    curl_easy_cleanup(static_cast<CURL*>(handle));
}

namespace {

void lock_shared(CURL*, curl_lock_data data, curl_lock_access, void* locks)
{
    static_cast<std::mutex*>(locks)[data].lock();
}

void unlock_shared(CURL*, curl_lock_data data, void* locks)
{
    static_cast<std::mutex*>(locks)[data].unlock();
}

} // namespace

SharedConnections::SharedConnections() : locks_(std::make_unique<Locks>())
{
    initialise_curl();
    CURLSH* share = curl_share_init();
    if (share == nullptr) {
        throw std::bad_alloc();
    }
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, lock_shared);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, unlock_shared);
    curl_share_setopt(share, CURLSHOPT_USERDATA, static_cast<void*>(locks_->of));
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    share_ = share;
}

SharedConnections::~SharedConnections()
{
    for (CURL* handle : locks_->idle) {
        curl_easy_cleanup(handle);
    }
    curl_share_cleanup(static_cast<CURLSH*>(share_));
}

} // namespace pam_oauth2
