#include "shared_refusal.hpp"

#include "digest.hpp"
#include "json.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <utility>

namespace pam_oauth2 {
namespace {

constexpr int refusal_format = 1;
// A configuration file larger than this is not fingerprinted: its refusals stay on this host.
constexpr off_t max_fingerprinted_bytes = 1 << 20;

void add_field(std::string& material, std::string_view field)
{
    material += std::to_string(field.size());
    material += ':';
    material += field;
}

// The SHA-256 of the file's content when it is still the file that was read, else nullopt.
std::optional<std::string> content_digest(const SourceFile& source)
{
    const UniqueFd fd(::open(source.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || st.st_size > max_fingerprinted_bytes) {
        return std::nullopt;
    }
    const FileIdentity now{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    if (!same_file(now, source.identity)) {
        return std::nullopt;
    }
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t got = ::read(fd.get(), text.data() + done, text.size() - done);
        if (got <= 0) {
            return std::nullopt;
        }
        done += static_cast<std::size_t>(got);
    }
    return sha256_hex(text);
}

nlohmann::json identity_json(const TokenIdentity& identity)
{
    nlohmann::json out = {{"iss", identity.issuer},     {"sub", identity.subject},
                          {"sid", identity.session_id}, {"client_id", identity.client_id},
                          {"aud", identity.audience},   {"jti", identity.jti_fingerprint}};
    if (identity.expires_at) {
        out["exp"] = *identity.expires_at;
    }
    return out;
}

std::optional<TokenIdentity> identity_from(const nlohmann::json& object)
{
    const auto text = [&](const char* key) { return string_member(object, key).value_or(std::string()); };
    TokenIdentity identity{
        text("iss"), text("sub"), text("sid"), text("client_id"), {}, text("jti"), integer_member(object, "exp")};
    const auto audience = object.find("aud");
    if (audience == object.end() || !audience->is_array()) {
        return std::nullopt;
    }
    for (const auto& entry : *audience) {
        if (!entry.is_string()) {
            return std::nullopt;
        }
        identity.audience.push_back(entry.get<std::string>());
    }
    return identity;
}

long long unix_now()
{
    return static_cast<long long>(std::time(nullptr));
}

} // namespace

std::optional<std::string> refusal_fingerprint(const std::vector<std::string>& args, const Configuration& configuration,
                                               std::string_view user)
{
    std::string material = "pam_oauth2 refusal v1";
    for (const auto& arg : args) {
        // Where the module finds this host's daemon decides nothing: hosts with their own socket paths
        // share refusals. (No other option starts with "broker".)
        if (arg.rfind("broker=", 0) != 0 && arg.rfind("broker_fallback=", 0) != 0) {
            add_field(material, arg);
        }
    }
    material += '\n';
    for (const auto& source : configuration.files) {
        const auto digest = content_digest(source);
        if (!digest) {
            return std::nullopt;
        }
        add_field(material, source.path);
        add_field(material, *digest);
    }
    material += '\n';
    add_field(material, user);
    return sha256_hex(material);
}

std::string encode_refusal(const Decision& decision)
{
    nlohmann::json out = {{"format", refusal_format},
                          {"outcome", "denied"},
                          {"reason", decision.reason},
                          {"method", decision.method},
                          {"user_loggable", decision.user_loggable}};
    if (decision.valid_until) {
        out["valid_until"] = *decision.valid_until;
    }
    if (decision.identity) {
        out["identity"] = identity_json(*decision.identity);
    }
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Decision> decode_refusal(std::string_view payload)
{
    const auto object = parse_json_object(payload);
    if (!object || integer_member(*object, "format") != refusal_format ||
        string_member(*object, "outcome") != std::optional<std::string>("denied")) {
        return std::nullopt;
    }
    const auto reason = string_member(*object, "reason");
    const auto method = string_member(*object, "method");
    const auto loggable = object->find("user_loggable");
    if (!reason || reason->empty() || !method || loggable == object->end() || !loggable->is_boolean()) {
        return std::nullopt;
    }
    Decision decision;
    decision.outcome = Outcome::Denied;
    decision.reason = *reason;
    decision.method = *method;
    decision.user_loggable = loggable->get<bool>();
    decision.valid_until = integer_member(*object, "valid_until");
    if (const auto identity = object->find("identity"); identity != object->end()) {
        if (!identity->is_object() || !(decision.identity = identity_from(*identity))) {
            return std::nullopt;
        }
    }
    return decision;
}

long long refusal_use_by(const Decision& decision, long seconds, long long now)
{
    long long until = now + seconds;
    if (decision.identity && decision.identity->expires_at) {
        until = std::min(until, *decision.identity->expires_at);
    } else if (decision.valid_until) {
        until = std::min(until, *decision.valid_until);
    }
    return until;
}

// A client of one login that consults the shared refusal before its first request: when there is
// one, nothing is sent and the request fails the way a policy refusal does (no stale copy stands in).
class FleetRefusal::Client final : public HttpClient {
public:
    Client(std::unique_ptr<HttpClient> inner, FleetRefusal& owner) : inner_(std::move(inner)), owner_(owner) {}

    HttpResult send(const HttpRequest& request) override
    {
        if (owner_.consult()) {
            HttpResult refused;
            refused.transport_error = "not sent: another host of the fleet refused this token";
            refused.refused_by_policy = true;
            return refused;
        }
        return inner_->send(request);
    }

private:
    std::unique_ptr<HttpClient> inner_;
    FleetRefusal& owner_;
};

FleetRefusal::FleetRefusal(const SharedStore& store, const std::vector<std::string>& args,
                           const Configuration& configuration, std::string_view user, const SecureString& token,
                           long remember_seconds)
    : store_(store), args_(args), configuration_(configuration), user_(user), token_digest_(sha256_hex(token.view())),
      remember_seconds_(remember_seconds), active_(remember_seconds > 0 && store.shared())
{
}

HttpClientFactory FleetRefusal::consult_before_sending(HttpClientFactory inner)
{
    if (!active_) {
        return inner;
    }
    return [this, inner = std::move(inner)](const HttpSettings& settings) -> std::unique_ptr<HttpClient> {
        return std::make_unique<Client>(inner(settings), *this);
    };
}

const std::optional<std::string>& FleetRefusal::fingerprint()
{
    if (!fingerprint_) {
        fingerprint_ = refusal_fingerprint(args_, configuration_, user_);
    }
    return *fingerprint_;
}

bool FleetRefusal::consult()
{
    if (!consulted_) {
        consulted_ = true;
        if (const auto& name = fingerprint()) {
            if (const auto content = store_.read_refusal(token_digest_, *name)) {
                found_ = decode_refusal(content->payload);
                found_until_ = content->use_by;
            }
        }
    }
    return found_.has_value();
}

long FleetRefusal::remember_seconds() const
{
    if (!found_) {
        return remember_seconds_;
    }
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    const long long left_ms = (found_until_ - now.tv_sec) * 1000 - now.tv_nsec / 1000000;
    return static_cast<long>(std::clamp<long long>(left_ms / 1000, 0, remember_seconds_));
}

Decision FleetRefusal::settle(Decision decided)
{
    if (found_) {
        Decision shared = *found_;
        shared.reason += " (refused by another host)";
        return shared;
    }
    if (active_ && decided.outcome == Outcome::Denied) {
        if (const auto& name = fingerprint()) {
            store_.write_refusal(token_digest_, *name, encode_refusal(decided),
                                 refusal_use_by(decided, remember_seconds_, unix_now()));
        }
    }
    return decided;
}

} // namespace pam_oauth2
