#include "browser_flow.hpp"
#include "fakes.hpp"
#include "loopback_listener.hpp"
#include "pkce.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace pam_oauth2;
using namespace pam_oauth2::token;
using namespace pam_oauth2::testing;

namespace {

const ProviderEndpoints endpoints{"https://idp.example.com",        "https://idp.example.com/token", "",
                                  "https://idp.example.com/revoke", "https://idp.example.com/auth",  true};
const ClientRequest client{"pg-cli", nullptr, "openid offline_access", "", "urn:example:postgres", ""};

// What a browser does: one request to 127.0.0.1:port, and the whole answer back.
std::string browse(int port, const std::string& request)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const timeval limit{5, 0}; // a listener that never answers fails the test instead of hanging it
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string answer;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
        (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
        char buffer[4096];
        ssize_t n = 0;
        while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
            answer.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return answer;
}

std::string get(const std::string& target)
{
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

std::string parameter(const std::string& url, const std::string& name)
{
    const auto query = parse_query(url.substr(url.find('?') + 1));
    REQUIRE(query);
    return query->count(name) != 0 ? query->at(name) : "";
}

std::string id_token_with(const std::string& claims)
{
    return base64url_encode(R"({"alg":"RS256"})") + "." + base64url_encode(claims) + ".c2ln";
}

} // namespace

TEST_CASE("pkce: the S256 challenge, fresh 43-character verifiers")
{
    // base64url(sha256(verifier)) as computed independently (Python hashlib).
    CHECK(s256_challenge("dBjftJeZ4CVP-mJ92K1uzK1rY3hbMoDAgRMhUQ6YbbU") ==
          "mEm1c7R9ArJ0Jyhrl1nKRwCjXiu3ke1FnV1pxC7-UyU");
    CHECK(base64url_encode("f") == "Zg");
    CHECK(base64url_encode("fo") == "Zm8");
    CHECK(base64url_encode("foo") == "Zm9v");
    CHECK(base64url_encode("\xfb\xff") == "-_8");
    const auto one = make_pkce();
    const auto two = make_pkce();
    REQUIRE(one);
    REQUIRE(two);
    CHECK(one->verifier.size() == 43);
    CHECK(one->verifier.view().find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string_view::npos);
    CHECK(one->challenge == s256_challenge(one->verifier.view()));
    CHECK(one->verifier.view() != two->verifier.view());
}

TEST_CASE("browser flow: the authorization URL carries every parameter, percent-encoded")
{
    AuthorizationRequest request{"https://idp.example.com/auth",
                                 "pg cli",
                                 "http://127.0.0.1:8400/callback",
                                 "openid offline_access",
                                 "st",
                                 "no",
                                 "ch",
                                 "consent",
                                 "",
                                 "urn:example:postgres",
                                 ""};
    CHECK(
        authorization_url(request) ==
        "https://idp.example.com/auth?response_type=code&client_id=pg%20cli&redirect_uri=http%3A%2F%2F127.0.0.1%3A8400"
        "%2Fcallback&scope=openid%20offline_access&state=st&nonce=no&code_challenge=ch&code_challenge_method=S256"
        "&prompt=consent&resource=urn%3Aexample%3Apostgres");
    request.endpoint = "https://idp.example.com/auth?tenant=x";
    request.prompt.clear();
    request.login_hint = "alice@example.com";
    const std::string url = authorization_url(request);
    CHECK(url.rfind("https://idp.example.com/auth?tenant=x&response_type=code&", 0) == 0);
    CHECK(url.find("prompt=") == std::string::npos);
    CHECK(parameter(url, "login_hint") == "alice@example.com");
}

TEST_CASE("browser flow: query strings are decoded; a parameter given twice or a bad escape is refused")
{
    const auto query = parse_query("code=a%2Bb+c&state=x&empty=&flag");
    REQUIRE(query);
    CHECK(query->at("code") == "a+b c");
    CHECK(query->at("empty").empty());
    CHECK(query->count("flag") == 1);
    CHECK_FALSE(parse_query("state=a&state=b"));
    CHECK_FALSE(parse_query("code=%zz"));
    CHECK_FALSE(parse_query("code=%4"));
    CHECK(parse_query("")->empty());
}

TEST_CASE("browser flow: the redirect gives its code only with our state and the provider's iss")
{
    const RedirectExpectation expected{"st-1", "https://idp.example.com", true};
    const auto code = read_redirect("code=c-1&state=st-1&iss=https%3A%2F%2Fidp.example.com", expected);
    REQUIRE(std::holds_alternative<SecureString>(code));
    CHECK(std::get<SecureString>(code).view() == "c-1");
    const auto refused = [&](const std::string& query,
                             const RedirectExpectation& expectation = {"st-1", "https://idp.example.com", true}) {
        auto read = read_redirect(query, expectation);
        REQUIRE(std::holds_alternative<GrantResult>(read));
        return std::get<GrantResult>(std::move(read));
    };
    CHECK(refused("code=c-1&state=other&iss=https%3A%2F%2Fidp.example.com").status == GrantStatus::Mismatch);
    CHECK(refused("code=c-1&iss=https%3A%2F%2Fidp.example.com").status == GrantStatus::Mismatch);
    CHECK(refused("code=c-1&state=st-1").status == GrantStatus::Mismatch); // iss advertised, none sent
    const auto wrong_iss = refused("code=c-1&state=st-1&iss=https%3A%2F%2Fevil.example");
    CHECK(wrong_iss.status == GrantStatus::Mismatch);
    CHECK(wrong_iss.problem.find("issuer https://evil.example, not https://idp.example.com") != std::string::npos);
    // Not advertised: no iss is fine, a wrong one is still refused.
    CHECK(std::holds_alternative<SecureString>(read_redirect("code=c&state=st-1", {"st-1", "https://i", false})));
    CHECK(refused("code=c&state=st-1&iss=https%3A%2F%2Fj", {"st-1", "https://i", false}).status ==
          GrantStatus::Mismatch);
    const auto denied = refused("error=access_denied&error_description=End-User+aborted&state=st-1&"
                                "iss=https%3A%2F%2Fidp.example.com");
    CHECK(denied.status == GrantStatus::Denied);
    CHECK(denied.problem == "access_denied: End-User aborted");
    CHECK(refused("error=access_denied&state=forged&iss=https%3A%2F%2Fidp.example.com").status ==
          GrantStatus::Mismatch);
    CHECK(refused("error=unauthorized_client&state=st-1&iss=https%3A%2F%2Fidp.example.com").status ==
          GrantStatus::BadClient);
    CHECK(refused("error=temporarily_unavailable&state=st-1&iss=https%3A%2F%2Fidp.example.com").status ==
          GrantStatus::Unavailable);
    CHECK(refused("state=st-1&iss=https%3A%2F%2Fidp.example.com").status == GrantStatus::Unavailable);
    CHECK(refused("code=a&code=b&state=st-1").status == GrantStatus::Mismatch);
}

TEST_CASE("browser flow: the id_token must carry our nonce and the issuer")
{
    const SecureString good(id_token_with(R"({"iss":"https://i","nonce":"n-1","sub":"x"})"));
    CHECK_FALSE(id_token_problem(good, "n-1", "https://i"));
    CHECK(id_token_problem(good, "n-2", "https://i")->find("nonce") != std::string::npos);
    CHECK(id_token_problem(good, "n-1", "https://j")->find("issuer") != std::string::npos);
    CHECK(id_token_problem(SecureString(id_token_with(R"({"iss":"https://i"})")), "n-1", "https://i"));
    CHECK(id_token_problem(SecureString("not-a-jwt"), "n-1", "https://i"));
}

TEST_CASE("loopback listener: other requests get an error page and are ignored; the callback is handed over")
{
    auto opened = LoopbackListener::open({});
    REQUIRE(std::holds_alternative<std::unique_ptr<LoopbackListener>>(opened));
    auto& listener = *std::get<std::unique_ptr<LoopbackListener>>(opened);
    REQUIRE(listener.port() > 0);
    std::string stray;
    std::string wrong_method;
    std::string page;
    std::thread browser([&] {
        stray = browse(listener.port(), get("/favicon.ico"));
        wrong_method = browse(listener.port(), "POST /callback HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        page = browse(listener.port(), get("/callback?code=c&state=s"));
    });
    auto waited = listener.wait("/callback", std::chrono::steady_clock::now() + std::chrono::seconds(10));
    REQUIRE(std::holds_alternative<Callback>(waited));
    auto& callback = std::get<Callback>(waited);
    CHECK(callback.query == "code=c&state=s");
    LoopbackListener::answer(callback, 200, landing_page("Signed in", "<b>&"));
    browser.join();
    CHECK(stray.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
    CHECK(wrong_method.rfind("HTTP/1.1 405 ", 0) == 0);
    CHECK(page.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(page.find("Content-Security-Policy: default-src 'none'") != std::string::npos);
    CHECK(page.find("<p>&lt;b&gt;&amp;</p>") != std::string::npos);
}

TEST_CASE("loopback listener: a silent connection does not stall the callback; the deadline ends the wait")
{
    auto opened = LoopbackListener::open({});
    auto& listener = *std::get<std::unique_ptr<LoopbackListener>>(opened);
    const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(listener.port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(silent, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    (void)::send(silent, "GET /call", 9, 0); // a request that never completes
    std::thread browser([&] { (void)browse(listener.port(), get("/callback?x=1")); });
    auto waited = listener.wait("/callback", std::chrono::steady_clock::now() + std::chrono::seconds(10));
    REQUIRE(std::holds_alternative<Callback>(waited));
    LoopbackListener::answer(std::get<Callback>(waited), 200, "ok");
    browser.join();
    ::close(silent);

    const auto began = std::chrono::steady_clock::now();
    auto expired = listener.wait("/callback", began + std::chrono::milliseconds(300));
    REQUIRE(std::holds_alternative<ListenFailure>(expired));
    CHECK(std::get<ListenFailure>(expired).timed_out);
    CHECK(std::chrono::steady_clock::now() - began >= std::chrono::milliseconds(300));
}

TEST_CASE("loopback listener: the first free port of the list; none free is a clear error")
{
    auto first = LoopbackListener::open({});
    const int busy = std::get<std::unique_ptr<LoopbackListener>>(first)->port();
    auto none = LoopbackListener::open({busy});
    REQUIRE(std::holds_alternative<std::string>(none));
    CHECK(std::get<std::string>(none).find("port " + std::to_string(busy) + " (") != std::string::npos);
    auto spare = LoopbackListener::open({});
    const int free_port = std::get<std::unique_ptr<LoopbackListener>>(spare)->port();
    spare = std::string(); // frees that port
    auto second = LoopbackListener::open({busy, free_port});
    REQUIRE(std::holds_alternative<std::unique_ptr<LoopbackListener>>(second));
    CHECK(std::get<std::unique_ptr<LoopbackListener>>(second)->port() == free_port);
}

TEST_CASE("browser flow: the redirect's code is exchanged with the PKCE verifier of the challenge sent")
{
    std::string url;
    std::string page;
    std::thread browser;
    FakeHttpClient http([&](const FakeHttpClient::Seen& seen) {
        REQUIRE(seen.url == endpoints.token);
        std::map<std::string, std::string> form(seen.form.begin(), seen.form.end());
        CHECK(form.at("grant_type") == "authorization_code");
        CHECK(form.at("code") == "c-1");
        CHECK(form.at("redirect_uri") == parameter(url, "redirect_uri"));
        CHECK(form.at("client_id") == "pg-cli");
        CHECK(form.at("resource") == "urn:example:postgres");
        CHECK(s256_challenge(form.at("code_verifier")) == parameter(url, "code_challenge"));
        const std::string id_token =
            id_token_with(R"({"iss":"https://idp.example.com","nonce":")" + parameter(url, "nonce") + R"("})");
        return answer(200, R"({"access_token":"at-1","refresh_token":"rt-1","expires_in":600,"id_token":")" + id_token +
                               "\"}");
    });
    BrowserFlowHooks hooks;
    hooks.show = [&](const std::string& shown, int port) {
        url = shown;
        const std::string redirect = parameter(url, "redirect_uri");
        REQUIRE(redirect.rfind("http://127.0.0.1:", 0) == 0);
        CHECK(std::stoi(redirect.substr(17)) == port);
        browser = std::thread([&page, port, state = parameter(url, "state")] {
            (void)browse(port, get("/"));
            page = browse(port, get("/callback?code=c-1&state=" + state + "&iss=https%3A%2F%2Fidp.example.com"));
        });
    };
    BrowserFlowSettings settings;
    settings.prompt = "consent";
    const auto result = browser_sign_in(http, endpoints, client, settings, hooks);
    browser.join();
    REQUIRE(result.status == GrantStatus::Issued);
    CHECK(result.access_token.view() == "at-1");
    CHECK(result.refresh_token.view() == "rt-1");
    CHECK(parameter(url, "code_challenge_method") == "S256");
    CHECK(parameter(url, "prompt") == "consent");
    CHECK(parameter(url, "scope") == "openid offline_access");
    CHECK(page.find("Signed in, you can close this tab.") != std::string::npos);
}
