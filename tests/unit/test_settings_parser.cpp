#include "settings_parser.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace pam_oauth2;

namespace {

const char* const base_url = "userinfo_url=https://idp.example.com/userinfo";

std::variant<Settings, ConfigError> parse(std::vector<std::string_view> args, const ConfigFileText* file = nullptr)
{
    return parse_settings(args, file);
}

Settings parse_ok(std::vector<std::string_view> args, const ConfigFileText* file = nullptr)
{
    auto result = parse(std::move(args), file);
    if (auto* error = std::get_if<ConfigError>(&result)) {
        FAIL("unexpected config error: " << error->message);
    }
    return std::move(std::get<Settings>(result));
}

std::string parse_error(std::vector<std::string_view> args, const ConfigFileText* file = nullptr)
{
    auto result = parse(std::move(args), file);
    REQUIRE(std::holds_alternative<ConfigError>(result));
    return std::get<ConfigError>(result).message;
}

} // namespace

TEST_CASE("defaults are the documented ones")
{
    const Settings options = parse_ok({base_url});
    CHECK(options.verify == std::vector<VerifyMethod>{VerifyMethod::Userinfo});
    CHECK(options.users.username_claim == "preferred_username");
    CHECK_FALSE(options.users.case_insensitive);
    CHECK(options.users.deny_users == std::vector<std::string>{"root", "postgres"});
    CHECK(options.users.groups_claim == "groups");
    CHECK(options.token.leeway_seconds == 60);
    CHECK(options.http.timeout_ms == 5000);
    CHECK(options.http.connect_timeout_ms == 2000);
    CHECK_FALSE(options.http.allow_http);
    CHECK(options.cache.dir == "/var/cache/pam_oauth2");
    CHECK(options.cache.ttl_seconds == 60);
    CHECK(options.conversation.prompt == "Access token: ");
    CHECK(options.token.max_bytes == 65535);
    CHECK_FALSE(options.log.debug);
    CHECK(options.log.target == LogTarget::Syslog);
    CHECK(options.jwt.algorithms.size() == 10);
}

TEST_CASE("every default can be flipped from module arguments")
{
    const Settings options = parse_ok({base_url,
                                       "username_claim=email",
                                       "case_insensitive",
                                       "deny_users=",
                                       "groups_claim=roles",
                                       "groups=dba,ops",
                                       "scope=openid,db",
                                       "require_claim=email_verified:true",
                                       "require_claim=tenant:acme",
                                       "leeway=5",
                                       "timeout=1.5",
                                       "connect_timeout=0.25",
                                       "ca_file=/tmp/ca.pem",
                                       "ca_path=/tmp/certs",
                                       "cache_ttl=0",
                                       "cache_dir=/tmp/cache",
                                       "prompt=Token: ",
                                       "max_token_bytes=4096",
                                       "debug",
                                       "log=stderr",
                                       "try_first_pass",
                                       "use_first_pass",
                                       "algorithms=ES256"});
    CHECK(options.users.username_claim == "email");
    CHECK(options.users.case_insensitive);
    CHECK(options.users.deny_users.empty());
    CHECK(options.users.groups_claim == "roles");
    CHECK(options.users.groups == std::vector<std::string>{"dba", "ops"});
    CHECK(options.users.scope == std::vector<std::string>{"openid", "db"});
    REQUIRE(options.users.require_claims.size() == 2);
    CHECK(options.users.require_claims[1] == std::pair<std::string, std::string>{"tenant", "acme"});
    CHECK(options.token.leeway_seconds == 5);
    CHECK(options.http.timeout_ms == 1500);
    CHECK(options.http.connect_timeout_ms == 250);
    CHECK(options.http.ca_file == "/tmp/ca.pem");
    CHECK(options.http.ca_path == "/tmp/certs");
    CHECK(options.cache.ttl_seconds == 0);
    CHECK(options.cache.dir == "/tmp/cache");
    CHECK(options.conversation.prompt == "Token: ");
    CHECK(options.token.max_bytes == 4096);
    CHECK(options.log.debug);
    CHECK(options.log.target == LogTarget::Stderr);
    CHECK(options.conversation.try_first_pass);
    CHECK(options.conversation.use_first_pass);
    CHECK(options.jwt.algorithms == std::vector<std::string>{"ES256"});
}

TEST_CASE("bracketed arguments with spaces are accepted")
{
    CHECK(parse_ok({base_url, "[prompt=Your access token: ]"}).conversation.prompt == "Your access token: ");
}

TEST_CASE("unknown keys and malformed values are errors naming the key")
{
    CHECK(parse_error({base_url, "group=dba"}) == "unknown option 'group'");
    CHECK(parse_error({base_url, "timeout=abc"}).find("option timeout") == 0);
    CHECK(parse_error({base_url, "timeout=0"}).find("option timeout") == 0);
    CHECK(parse_error({base_url, "timeout=5s"}).find("option timeout") == 0);
    CHECK(parse_error({base_url, "timeout=-1"}).find("option timeout") == 0);
    CHECK(parse_error({base_url, "leeway=99999"}).find("option leeway") == 0);
    CHECK(parse_error({base_url, "leeway=1x"}).find("option leeway") == 0);
    CHECK(parse_error({base_url, "max_token_bytes=0"}).find("option max_token_bytes") == 0);
    CHECK(parse_error({base_url, "debug=maybe"}).find("option debug") == 0);
    CHECK(parse_error({base_url, "log=file"}).find("option log") == 0);
    CHECK(parse_error({base_url, "verify=password"}).find("unknown method") != std::string::npos);
    CHECK(parse_error({base_url, "verify=userinfo,userinfo"}).find("twice") != std::string::npos);
    CHECK(parse_error({base_url, "groups="}).find("option groups") == 0);
    CHECK(parse_error({base_url, "require_claim=novalue"}).find("option require_claim") == 0);
    CHECK(parse_error({base_url, "username_claim"}).find("option username_claim") == 0);
}

TEST_CASE("required keys and URL policy")
{
    CHECK(parse_error({}) == "verify=userinfo needs userinfo_url");
    CHECK(parse_error({"userinfo_url=ftp://idp/userinfo"}).find("https://") != std::string::npos);
    CHECK(parse_error({"userinfo_url=http://127.0.0.1/userinfo"}).find("allow_http") != std::string::npos);
    CHECK(parse_error({"userinfo_url=http://idp.example.com/u", "allow_http"}).find("not loopback") !=
          std::string::npos);
    CHECK(parse_error({"userinfo_url=http://127.0.0.1@evil.example/u", "allow_http"}).find("@") != std::string::npos);
    CHECK(parse_error({"userinfo_url=https:///path"}).find("no host") != std::string::npos);
    CHECK(parse_ok({"userinfo_url=http://127.0.0.1:8080/u", "allow_http"}).http.allow_http);
    CHECK(parse_ok({"userinfo_url=http://[::1]:8080/u", "allow_http"}).http.allow_http);
    CHECK(parse_ok({"userinfo_url=http://localhost/u", "allow_http"}).http.allow_http);
    CHECK(parse_error({base_url, "audience=db"}).find("audience") != std::string::npos);
    CHECK(parse_error({"verify=jwt"}).find("needs issuer") != std::string::npos);
    CHECK(parse_ok({"verify=jwt", "issuer=https://idp", "audience=db"}).token.audience == "db");
    // jwt and introspect need an audience, unless it is waived on purpose.
    CHECK(parse_error({"verify=jwt", "issuer=https://idp"}).find("verify=jwt needs audience") == 0);
    CHECK(parse_error({"verify=jwt,userinfo", base_url, "issuer=https://idp"}).find("needs audience") !=
          std::string::npos);
    CHECK(parse_ok({"verify=jwt", "issuer=https://idp", "allow_any_audience"}).token.allow_any_audience);
    CHECK(parse_error({"verify=jwt", "issuer=https://idp", "audience=db", "algorithms=RS256,none"}).find("none") !=
          std::string::npos);
    CHECK(parse_error({"verify=jwt", "issuer=https://idp", "audience=db", "algorithms=HS256"}).find("HS256") !=
          std::string::npos);
    CHECK(parse_error({"verify=jwt", "issuer=https://idp", "audience=db", "algorithms=RS1"})
              .find("unknown algorithm RS1") != std::string::npos);
    CHECK(parse_error({"verify=jwt", "issuer=http://idp.example.com"}).find("option issuer") == 0);
    CHECK(parse_error({base_url, "username_map=map.txt"}).find("absolute path") != std::string::npos);
    CHECK(parse_ok({base_url, "username_map=/etc/security/pam_oauth2.map"}).users.username_map ==
          "/etc/security/pam_oauth2.map");
}

TEST_CASE("client_secret only from a conf file that is not world-readable")
{
    CHECK(parse_error({base_url, "client_secret=s3cret"}).find("not accepted as a module argument") !=
          std::string::npos);

    ConfigFileText file{"/etc/security/pam_oauth2.conf",
                        "# introspection client\nintrospection_url = https://idp/introspect\n"
                        "client_id = pg\nclient_secret = s3cret value\nverify = introspect\naudience = db\n",
                        false};
    const Settings options = parse_ok({}, &file);
    CHECK(options.endpoints.client_secret.view() == "s3cret value");
    CHECK(options.verify == std::vector<VerifyMethod>{VerifyMethod::Introspect});
    CHECK(describe_settings(options).find("s3cret") == std::string::npos);
    CHECK(describe_settings(options).find("client_secret=<redacted>") != std::string::npos);

    file.world_readable = true;
    CHECK(parse_error({}, &file).find("world-readable") != std::string::npos);
}

TEST_CASE("arguments may not move the endpoints of a conf file that holds client_secret")
{
    const ConfigFileText file{"/etc/pam_oauth2/other-service.conf",
                              "verify = introspect\nintrospection_url = https://idp.example.com/introspect\n"
                              "client_id = pg\nclient_secret = s3cret value\naudience = db\n",
                              false};
    // The attack of a confused deputy: the same file, the introspection URL pointed elsewhere.
    const std::string moved = parse_error({"introspection_url=https://idp.example.com:8443/steal"}, &file);
    CHECK(moved.find("option introspection_url may not be a module argument") != std::string::npos);
    CHECK(moved.find("8443") == std::string::npos);
    CHECK(moved.find("steal") == std::string::npos);
    CHECK(moved.find("s3cret") == std::string::npos);
    for (const auto* argument :
         {"userinfo_url=https://idp.example.com/u", "jwks_url=https://idp.example.com/k",
          "discovery_url=https://idp.example.com/d", "issuer=https://idp.example.com/realms/x"}) {
        INFO(argument);
        const std::string key(std::string_view(argument).substr(0, std::string_view(argument).find('=')));
        CHECK(parse_error({argument}, &file).find("option " + key + " may not be a module argument") !=
              std::string::npos);
    }
    // The positional userinfo URL of the seed form is an argument too.
    CHECK(parse_error({"https://idp.example.com/u", "verify=introspect,userinfo"}, &file)
              .find("option userinfo_url may not be a module argument") != std::string::npos);
    // Everything else may still be given per service, and without a secret the endpoints may move.
    CHECK(parse_ok({"timeout=1", "audience=other", "client_id=other"}, &file).http.timeout_ms == 1000);
    const ConfigFileText plain{"/etc/pam_oauth2/jwt.conf",
                               "verify = jwt\nissuer = https://idp.example.com/a\n"
                               "audience = db\n",
                               false};
    CHECK(parse_ok({"issuer=https://idp.example.com/b"}, &plain).token.issuer == "https://idp.example.com/b");
}

TEST_CASE("an [issuer] section inherits the rule: arguments may not set its endpoints either")
{
    const ConfigFileText file{"/etc/pam_oauth2/sections.conf",
                              "verify = jwt, introspect\nintrospection_url = https://idp.example.com/i\n"
                              "client_id = pg\nclient_secret = s3cret\naudience = db\n"
                              "[issuer a]\nissuer = https://idp.example.com/a\n",
                              false};
    CHECK(std::holds_alternative<ParsedSettings>(parse_all_settings({}, &file)));
    auto moved = parse_all_settings({"jwks_url=https://idp.example.com:9/k"}, &file);
    REQUIRE(std::holds_alternative<ConfigError>(moved));
    CHECK(std::get<ConfigError>(moved).message.find("option jwks_url may not be a module argument") !=
          std::string::npos);
}

TEST_CASE("module arguments override the conf file, and file errors name the line")
{
    ConfigFileText file{"/etc/pam_oauth2.conf", "userinfo_url = https://a.example/u\n\ntimeout = 3\n", false};
    const Settings options = parse_ok({"timeout=1"}, &file);
    CHECK(options.endpoints.userinfo_url == "https://a.example/u");
    CHECK(options.http.timeout_ms == 1000);

    ConfigFileText broken{"/etc/pam_oauth2.conf", "userinfo_url = https://a.example/u\ngroup = dba\n", false};
    auto result = parse_settings({}, &broken);
    REQUIRE(std::holds_alternative<ConfigError>(result));
    CHECK(std::get<ConfigError>(result).message == "conf file /etc/pam_oauth2.conf line 2 is not a known option");
    CHECK(std::get<ConfigError>(result).in_file);

    ConfigFileText nested{"/etc/pam_oauth2.conf", "conf = /etc/other\n", false};
    CHECK(parse_error({base_url}, &nested).find("nested") != std::string::npos);
}

TEST_CASE("conf path is taken from the arguments")
{
    CHECK(conf_path_from_args({"debug", "conf=/etc/x.conf"}) == std::string("/etc/x.conf"));
    CHECK_FALSE(conf_path_from_args({"debug"}));
}

TEST_CASE("review #7: comments after values, and list items with blanks")
{
    ConfigFileText file{"/etc/pam_oauth2.conf",
                        "userinfo_url = https://a.example/u  # the provider\n"
                        "deny_users = root,postgres   # never the superuser\n"
                        "groups = dba,ops\t# two teams\n",
                        false};
    const Settings settings = parse_ok({}, &file);
    CHECK(settings.users.deny_users == std::vector<std::string>{"root", "postgres"});
    CHECK(settings.users.groups == std::vector<std::string>{"dba", "ops"});
    CHECK(settings.endpoints.userinfo_url == "https://a.example/u");

    CHECK(parse_error({base_url, "groups=dba,ops team"}).find("option groups has an item with a blank") == 0);
    ConfigFileText spaced{"/etc/pam_oauth2.conf", "userinfo_url = https://a.example/u\ndeny_users = root postgres\n",
                          false};
    CHECK(parse_error({}, &spaced).find("line 2: option deny_users has an item with a blank") != std::string::npos);
}

TEST_CASE("require_claim=CLAIM=VALUE splits at the first '=', the older CLAIM:VALUE still reads")
{
    const auto rules = [](std::string_view argument) { return parse_ok({base_url, argument}).users.require_claims; };
    using Rule = std::pair<std::string, std::string>;
    CHECK(rules("require_claim=https://example.com/roles=dba") ==
          std::vector<Rule>{{"https://example.com/roles", "dba"}});
    CHECK(rules("require_claim=cognito:groups=ops") == std::vector<Rule>{{"cognito:groups", "ops"}});
    CHECK(rules("require_claim=sub=repo:org/repo:environment:prod") ==
          std::vector<Rule>{{"sub", "repo:org/repo:environment:prod"}});
    CHECK(rules("require_claim=/realm_access/roles=dba") == std::vector<Rule>{{"/realm_access/roles", "dba"}});
    CHECK(rules("require_claim=email_verified:true") == std::vector<Rule>{{"email_verified", "true"}});
    CHECK(parse_error({base_url, "require_claim=tenant="}).find("claim=value") != std::string::npos);
    CHECK(parse_error({base_url, "require_claim==x"}).find("claim=value") != std::string::npos);
    CHECK(parse_error({base_url, "require_claim=/a~2=x"}).find("JSON Pointer") != std::string::npos);
    CHECK(parse_error({base_url, "username_claim=/a~"}).find("option username_claim is not a valid JSON Pointer") == 0);
}

TEST_CASE("the seed article's pam.d line: a URL, then the username claim, as positional arguments")
{
    const char* const url = "https://keycloak.example.com/realms/acme/protocol/openid-connect/userinfo";
    const Settings seed = parse_ok({url, "preferred_username"});
    CHECK(seed.endpoints.userinfo_url == url);
    CHECK(seed.users.username_claim == "preferred_username");
    CHECK(seed.verify == std::vector<VerifyMethod>{VerifyMethod::Userinfo});

    const Settings with_options = parse_ok({url, "email", "debug", "cache_ttl=0"});
    CHECK(with_options.users.username_claim == "email");
    CHECK(with_options.log.debug);
    CHECK(parse_ok({url, "debug"}).users.username_claim == "preferred_username"); // an option, not a claim
    CHECK(parse_ok({url}).endpoints.userinfo_url == url);
    // Only first: a URL elsewhere, or a bare word without the URL, is what it always was.
    CHECK(parse_error({"debug", url}).find("unknown option 'https") == 0);
    CHECK(parse_error({"preferred_username"}) == "unknown option 'preferred_username'");
    // Every other rule still holds: plain http only to loopback with allow_http, unknown words refused.
    CHECK(parse_error({"http://idp.example.com/userinfo", "sub"}).find("option userinfo_url uses http://") == 0);
    CHECK(parse_error({url, "sub", "extra"}) == "unknown option 'extra'");
}

TEST_CASE("[issuer NAME] sections: shared keys, then arguments, then the section's own keys")
{
    ConfigFileText file{"/etc/security/pam_oauth2.conf",
                        "verify = jwt,userinfo\n"
                        "userinfo_url = https://staff.example.com/userinfo\n"
                        "audience = postgres\n"
                        "groups = dba\n"
                        "[issuer staff]\n"
                        "issuer = https://staff.example.com\n"
                        "[issuer contractors]   # Keycloak\n"
                        "issuer = https://kc.example.com/realms/contractors\n"
                        "audience = pg-contractors\n"
                        "groups_claim = /realm_access/roles\n",
                        false};
    const Settings shared = parse_ok({"leeway=5"}, &file);
    CHECK(shared.token.issuer.empty());
    CHECK(shared.users.groups == std::vector<std::string>{"dba"});
    auto sections = parse_issuer_sections({"leeway=5"}, file);
    REQUIRE(std::holds_alternative<std::vector<IssuerSettings>>(sections));
    const auto& issuers = std::get<std::vector<IssuerSettings>>(sections);
    REQUIRE(issuers.size() == 2);
    CHECK(issuers[0].name == "staff");
    CHECK(issuers[0].settings.token.issuer == "https://staff.example.com");
    CHECK(issuers[0].settings.token.audience == "postgres");
    CHECK(issuers[0].settings.token.leeway_seconds == 5);
    CHECK(issuers[1].settings.token.audience == "pg-contractors");
    CHECK(issuers[1].settings.users.groups_claim == "/realm_access/roles");
    CHECK(issuers[1].settings.users.groups == std::vector<std::string>{"dba"});
}

TEST_CASE("[issuer] sections refuse what they cannot mean")
{
    const auto section_error = [](const std::string& text) {
        const ConfigFileText file{"/etc/pam_oauth2.conf", "verify = jwt\naudience = postgres\n" + text, false};
        auto shared = parse_settings({}, &file);
        if (auto* error = std::get_if<ConfigError>(&shared)) {
            return error->message;
        }
        auto sections = parse_issuer_sections({}, file);
        REQUIRE(std::holds_alternative<ConfigError>(sections));
        return std::get<ConfigError>(sections).message;
    };
    CHECK(section_error("[issuer a]\nissuer = https://a.example\ntimeout = 1\n")
              .find("line 5: option timeout "
                    "applies to every login") != std::string::npos);
    CHECK(section_error("[issuer a]\naudience = x\n").find("[issuer a]: needs issuer") != std::string::npos);
    CHECK(section_error("[issuer a]\nissuer = https://a.example\n[issuer b]\nissuer = https://a.example\n")
              .find("is also that of [issuer a]") != std::string::npos);
    CHECK(section_error("[issuer a]\nissuer = https://a.example\n[issuer a]\nissuer = https://b.example\n")
              .find("section [issuer a] twice") != std::string::npos);
    CHECK(section_error("[tenant a]\n").find("a section is written [issuer NAME]") != std::string::npos);
    CHECK(section_error("[issuer a]\nissuer = http://a.example\n").find("option issuer uses http://") !=
          std::string::npos);
    const ConfigFileText userinfo_only{
        "/etc/pam_oauth2.conf", "userinfo_url = https://a.example/u\n[issuer a]\nissuer = https://a.example\n", false};
    CHECK(parse_error({}, &userinfo_only).find("need verify=jwt") != std::string::npos);
}

TEST_CASE("an issuer template with {tenantid} needs its tenants and its keys' location")
{
    const char* const entra = "issuer=https://login.microsoftonline.com/{tenantid}/v2.0";
    const char* const keys = "jwks_url=https://login.microsoftonline.com/common/discovery/v2.0/keys";
    CHECK(parse_error({"verify=jwt", "audience=api", entra, keys}).find("needs tenants=") != std::string::npos);
    CHECK(parse_error({"verify=jwt", "audience=api", entra, "tenants=t1"}).find("jwks_url=") != std::string::npos);
    CHECK(parse_ok({"verify=jwt", "audience=api", entra, keys, "tenants=t1,t2"}).token.tenants.size() == 2);
    CHECK(parse_error({"verify=jwt", "audience=api", "issuer=https://a.example", "tenants=t1"}) ==
          "option tenants needs an issuer with {tenantid}");
}

TEST_CASE("the example files that ship with the package are valid configurations")
{
    const auto text_of = [](const char* name) {
        std::ifstream file(std::string(PAM_OAUTH2_SOURCE_DIR) + "/etc/" + name);
        REQUIRE(file);
        std::stringstream text;
        text << file.rdbuf();
        return ConfigFileText{"/etc/security/pam_oauth2.conf", text.str(), false};
    };
    const ConfigFileText introspect = text_of("pam_oauth2.conf");
    CHECK(parse_ok({"verify=introspect", "audience=postgres"}, &introspect).endpoints.client_id ==
          "postgres-introspection");

    for (const char* provider :
         {"providers/keycloak.conf", "providers/entra.conf", "providers/entra-multi-tenant.conf",
          "providers/cognito.conf", "providers/github-actions.conf", "providers/kubernetes.conf"}) {
        INFO(provider);
        const ConfigFileText recipe = text_of(provider);
        const Settings settings = parse_ok({}, &recipe);
        CHECK(settings.verify == std::vector<VerifyMethod>{VerifyMethod::Jwt});
    }

    const ConfigFileText issuers = text_of("pam_oauth2.issuers.conf");
    parse_ok({}, &issuers);
    auto sections = parse_issuer_sections({}, issuers);
    REQUIRE(std::holds_alternative<std::vector<IssuerSettings>>(sections));
    CHECK(std::get<std::vector<IssuerSettings>>(sections).size() == 3);
}

TEST_CASE("option origins: the last place that set each option, as parsing reads them")
{
    ConfigFileText file;
    file.path = "/etc/pam_oauth2/pg.conf";
    file.text = "client_id = pg\n"
                "# a comment\n"
                "timeout = 3   # seconds\n"
                "[issuer staff]\n"
                "issuer = https://staff.example.com\n"
                "audience = db\n";
    const std::vector<std::string_view> args{"https://idp.example.com/userinfo", "email",
                                             "conf=/etc/pam_oauth2/pg.conf",     "timeout=4",
                                             "[prompt=Token please: ]",          "debug"};
    const auto shared = option_origins(args, &file);
    CHECK(shared.at("userinfo_url") == "argument 1 (seed form)");
    CHECK(shared.at("username_claim") == "argument 2 (seed form)");
    CHECK(shared.at("conf") == "argument");
    CHECK(shared.at("client_id") == "conf file /etc/pam_oauth2/pg.conf line 1");
    CHECK(shared.at("timeout") == "argument"); // the argument overrides the file, as in parsing
    CHECK(shared.at("prompt") == "argument");
    CHECK(shared.at("debug") == "argument");
    CHECK(shared.count("issuer") == 0); // only in the section: the shared settings keep the default
    CHECK(shared.count("leeway") == 0);
    const auto staff = option_origins(args, &file, "staff");
    CHECK(staff.at("issuer") == "conf file /etc/pam_oauth2/pg.conf [issuer staff] line 5");
    CHECK(staff.at("audience") == "conf file /etc/pam_oauth2/pg.conf [issuer staff] line 6");
    CHECK(staff.at("client_id") == "conf file /etc/pam_oauth2/pg.conf line 1");
    CHECK(option_origins({"verify=jwt"}, nullptr) == std::map<std::string, std::string>{{"verify", "argument"}});
}

TEST_CASE("one walk: the origins recorded as the values are set, sections from a copy of the shared keys")
{
    ConfigFileText file{"/etc/pam_oauth2/pg.conf",
                        "verify = jwt\naudience = db\ntimeout = 3\n"
                        "[issuer staff]\nissuer = https://staff.example.com\n"
                        "[issuer ci]\nissuer = https://ci.example.com\naudience = ci-db\n",
                        false};
    auto parsed = parse_all_settings({"conf=/etc/pam_oauth2/pg.conf", "timeout=4"}, &file);
    REQUIRE(std::holds_alternative<ParsedSettings>(parsed));
    const auto& all = std::get<ParsedSettings>(parsed);
    CHECK(all.settings.http.timeout_ms == 4000);
    CHECK(all.origins.at("timeout") == "argument");
    CHECK(all.origins.at("verify") == "conf file /etc/pam_oauth2/pg.conf line 1");
    REQUIRE(all.issuers.size() == 2);
    CHECK(all.issuers[0].settings.http.timeout_ms == 4000); // the arguments come before the sections
    CHECK(all.issuers[0].origins.at("issuer") == "conf file /etc/pam_oauth2/pg.conf [issuer staff] line 5");
    CHECK(all.issuers[0].origins.at("audience") == "conf file /etc/pam_oauth2/pg.conf line 2");
    CHECK(all.issuers[1].settings.token.audience == "ci-db");
    CHECK(all.issuers[1].origins.at("audience") == "conf file /etc/pam_oauth2/pg.conf [issuer ci] line 8");
    CHECK(all.issuers[1].origins == option_origins({"conf=/etc/pam_oauth2/pg.conf", "timeout=4"}, &file, "ci"));
}

TEST_CASE("configuration errors never echo a file's content, only its name and line number")
{
    const auto file_error = [](const std::string& text) {
        const ConfigFileText file{"/etc/shadow", text, false};
        return parse_error({base_url}, &file);
    };
    // A conf= path naming a file the reader may open but must not reveal, such as /etc/shadow.
    const std::string shadow = file_error("root:$6$saltsalt$S3CRETHASH:19000:0:99999:7:::\n");
    CHECK(shadow == "conf file /etc/shadow line 1 is not key = value");
    // A typo that puts a secret on a line the parser cannot read as a known key.
    const std::string typo = file_error("client_secret: s3cr3t-value\n");
    CHECK(typo == "conf file /etc/shadow line 1 is not key = value");
    const std::string unknown = file_error("\n# comment\npassword = hunter2\n");
    CHECK(unknown == "conf file /etc/shadow line 3 is not a known option");
    // Values of known keys are not echoed from a file either.
    const std::string method = file_error("verify = s3cr3t-value\n");
    CHECK(method.find("conf file /etc/shadow line 1: option verify") == 0);
    const std::string item = file_error("groups = dba s3cr3t-value\n");
    CHECK(item.find("conf file /etc/shadow line 1: option groups") == 0);
    for (const auto& message : {shadow, typo, unknown, method, item}) {
        CHECK(message.find("S3CRET") == std::string::npos);
        CHECK(message.find("s3cr3t") == std::string::npos);
        CHECK(message.find("hunter2") == std::string::npos);
        CHECK(message.find("root") == std::string::npos);
        CHECK(message.find("password") == std::string::npos);
    }
}

TEST_CASE("an unknown argument is named by its key, never with a value")
{
    CHECK(parse_error({base_url, "token=s3cr3t"}) == "unknown option 'token'");
    CHECK(parse_error({base_url, "client_secret:s3cr3t"}) == "unknown option 'client_secret...'");
    CHECK(parse_error({base_url, "[secret s3cr3t=x]"}) == "unknown option 'secret...'");
    CHECK(parse_error({base_url, "verify=s3cr3t"}).find("s3cr3t") == std::string::npos);
    CHECK(parse_error({base_url, "scope=a s3cr3t"}).find("s3cr3t") == std::string::npos);
}

TEST_CASE("issuer with verify=userinfo alone is a configuration error, as audience is")
{
    // A userinfo answer's iss is never checked: accepting issuer there would promise a check that
    // never runs (a token of another issuer was granted).
    CHECK(parse_error({base_url, "issuer=https://idp.example.com"}).find("option issuer needs verify=jwt") == 0);
    const ConfigFileText file{"/etc/pam_oauth2/u.conf",
                              "userinfo_url = https://idp.example.com/u\nissuer = https://idp\n", false};
    CHECK(parse_error({}, &file).find("option issuer needs verify=jwt") == 0);
    // With a method that checks it, issuer stays accepted.
    CHECK(parse_ok({"verify=jwt,userinfo", base_url, "issuer=https://idp", "audience=db"}).token.issuer ==
          "https://idp");
    CHECK(parse_ok({"verify=userinfo,jwt", base_url, "issuer=https://idp", "audience=db"}).token.issuer ==
          "https://idp");
}
