#include "session_recheck.hpp"

#include "authenticator.hpp"
#include "clock.hpp"
#include "settings.hpp"

#include <syslog.h>

#include <chrono>
#include <mutex>
#include <set>

namespace pam_oauth2 {
namespace {

// What a dropped verdict is overwritten with: a verdict entry without claims, which the verdict
// cache refuses (core/verdict_cache.cpp), so the next login with the token asks the provider.
constexpr std::string_view dropped_verdict = R"({"dropped":"token refused on re-check"})";

bool is_verdict(std::string_view key)
{
    return key.rfind("verdict ", 0) == 0;
}

// The daemon's store as one re-check sees it: verdicts miss (their keys are noted, so a refusal can
// drop exactly the entries a login would read), documents (discovery, JWKS) are served as usual.
class VerdictBypass final : public DocumentStore {
public:
    explicit VerdictBypass(const DocumentStore& inner) : inner_(inner) {}

    [[nodiscard]] std::optional<CacheEntry> read(std::string_view key, std::size_t max_bytes) const override
    {
        if (is_verdict(key)) {
            const std::lock_guard<std::mutex> lock(mutex_);
            verdict_keys_.emplace(key);
            return std::nullopt;
        }
        return inner_.read(key, max_bytes);
    }
    [[nodiscard]] bool write(std::string_view key, std::string_view text, long long stored_at) const override
    {
        return inner_.write(key, text, stored_at);
    }
    [[nodiscard]] std::string where() const override { return inner_.where(); }
    [[nodiscard]] std::shared_ptr<const void> memo(std::string_view key, long long stored_at) const override
    {
        return inner_.memo(key, stored_at);
    }
    void remember(std::string_view key, long long stored_at, const std::shared_ptr<const void>& parsed) const override
    {
        inner_.remember(key, stored_at, parsed);
    }
    [[nodiscard]] bool admits(std::string_view url) const override { return inner_.admits(url); }

    /// Overwrites every verdict the re-check would have read, where the logins read them.
    void drop_verdicts(long long now) const
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& key : verdict_keys_) {
            (void)inner_.write(key, dropped_verdict, now);
        }
    }

private:
    const DocumentStore& inner_;
    mutable std::mutex mutex_;
    mutable std::set<std::string> verdict_keys_; // method, endpoint and token digest: never the token
};

} // namespace

Recheck ProviderRechecker::recheck(const TrackedSession& session)
{
    const RecheckMaterial& material = *session.recheck;
    const Configuration& configuration = *material.configuration;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(configuration.settings.http.timeout_ms);
    const VerdictBypass store(store_);
    // Only the debug lines of a line with `debug` pass: the outcome is the tracker's one line, and a
    // provider outage must not write a line per session per interval.
    const std::string prefix = "session re-check pid=" + std::to_string(session.pid) + ": ";
    const Logger quiet(
        [this, &prefix](int priority, const std::string& line) {
            if (priority == LOG_DEBUG) {
                logger_.log(priority, prefix + line);
            }
        },
        configuration.settings.log.debug);
    Decision decision;
    try {
        decision = decide_login(material.user, material.token, configuration, gate_.factory(deadline, waiting_()),
                                system_now, quiet, &store);
    } catch (const std::bad_alloc&) {
        return Recheck{Recheck::Unavailable, "out of memory"};
    } catch (const std::exception&) {
        return Recheck{Recheck::Unavailable, "internal error"}; // on the tracker's thread: never escapes
    }
    switch (decision.outcome) {
    case Outcome::Granted: return Recheck{Recheck::Valid, decision.reason};
    case Outcome::Denied: store.drop_verdicts(system_now()); return Recheck{Recheck::Refused, decision.reason};
    default:
        // The provider down or slow, or a fault of ours: neither says the token is no longer good.
        return Recheck{Recheck::Unavailable, decision.reason.empty() ? "no answer" : decision.reason};
    }
}

} // namespace pam_oauth2
