#!/usr/bin/env python3
"""End to end: psql, pamtester, pgbouncer and node-postgres log in to a real PostgreSQL 15 cluster
with real access tokens of a real OpenID provider (oidc-provider), checked by pam_oauth2.so.

    test_postgres.py --module build/pam_oauth2/pam_oauth2.so
    test_postgres.py --module pam_oauth2.so          # the module installed by the package

Needs root (writes /etc/pam.d/<test service> and removes it) and the packages scripts/install-deps.sh
installs. Leaves nothing running and nothing in /etc.
"""

import argparse
import glob
import hashlib
import os
import pwd
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.parse

import fixtures

MODULE = None
DAEMON = None
TOKEN_HELPER = None
DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")
SERVICE = f"pam_oauth2_e2e_{os.getpid()}"
TIMEOUT = 2  # the module's timeout= in these runs
TOKENS_USED = []


def fingerprint(token):
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:8]


def setUpModule():
    global WS, IDP, PG, PAM
    WS = fixtures.Workspace(MODULE)
    try:
        IDP = fixtures.OidcProvider(WS)
        PAM = fixtures.PamServiceFile(SERVICE, WS.module, service_args())
        PG = fixtures.PostgresCluster(WS, SERVICE)
        PG.admin_sql("""
            CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN; CREATE ROLE carol LOGIN; CREATE ROLE dave LOGIN;
            CREATE ROLE erin LOGIN;
            CREATE TABLE notes (owner name NOT NULL DEFAULT current_user, body text NOT NULL);
            ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
            CREATE POLICY own_notes ON notes USING (owner = current_user);
            GRANT SELECT, INSERT ON notes TO alice, bob, carol, dave, erin;
            INSERT INTO notes VALUES ('alice', 'alice note 1'), ('alice', 'alice note 2'), ('bob', 'bob note');
        """)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    for name in ("PG", "IDP", "PAM"):
        part = globals().get(name)
        if part is not None:
            part.stop() if hasattr(part, "stop") else part.remove()
    WS.remove()


def userinfo_args(*extra):
    # cache_ttl=0: each case asks the provider (revocation, outages); the verdict cache has its own case.
    return ["log=stderr", f"userinfo_url={IDP.userinfo_url}", f"ca_file={WS.ca}", f"timeout={TIMEOUT}",
            "connect_timeout=1", "cache_ttl=0", *extra]


def service_args(*extra):
    """The suite's main service: JWT access tokens checked locally, opaque ones at userinfo."""
    return userinfo_args("verify=jwt,userinfo", f"issuer={IDP.issuer}", "audience=postgres", "leeway=0",
                         f"cache_dir={WS.cache_dir}", *extra)


def introspect_conf(name, group=None):
    """The client secret and, with it, every endpoint: a module argument may not move the endpoints of
    a file that holds a client secret."""
    return WS.write_conf(name, f"introspection_url = {IDP.introspection_url}\nissuer = {IDP.issuer}\n"
                         "client_id = pg-introspect\nclient_secret = pg-introspect-secret\n", group=group)


def introspect_args(conf):
    return ["log=stderr", f"ca_file={WS.ca}", f"timeout={TIMEOUT}", "connect_timeout=1", "cache_ttl=0",
            "verify=introspect", f"conf={conf}", "allow_any_audience", "require_claim=client_id:psql"]


def mint(*args, **kwargs):
    token = IDP.mint(*args, **kwargs)
    TOKENS_USED.append(token)
    return token


def jwt(user, **kwargs):
    """A JWT access token (RFC 9068) for the postgres resource."""
    kwargs.setdefault("scope", "openid profile groups db")
    return mint(user, resource=kwargs.pop("resource", "postgres"), **kwargs)


def pg_log_since(offset):
    return PG.log_text()[offset:]


class LoginCase(unittest.TestCase):
    """Real psql with PGPASSWORD=<token>; each case asserts success or the refusal and its log line."""

    def login(self, user, token, sql="select current_user"):
        offset = len(PG.log_text())
        code, out, err, seconds = fixtures.psql(PG.port, user, token, sql)
        time.sleep(0.1)  # let the backend's stderr reach the log file
        return code, out, err, seconds, pg_log_since(offset)

    def assert_refused(self, user, token, reason):
        code, _, err, seconds, log = self.login(user, token)
        self.assertNotEqual(code, 0)
        self.assertIn("PAM authentication failed", err)
        self.assertIn(reason, log)
        return seconds, log


class PsqlLogins(LoginCase):
    """Opaque tokens, checked at the provider's userinfo endpoint."""

    def test_own_token_logs_in_and_sees_own_rows(self):
        token = mint("alice")
        code, out, err, _, log = self.login("alice", token, "select current_user; select body from notes order by 1")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines(), ["alice", "alice note 1", "alice note 2"])
        self.assertIn("result=granted", log)
        self.assertIn(f"user=alice method=userinfo token={fingerprint(token)}", log)

    def test_rls_per_person(self):
        code, out, err, _, _ = self.login("bob", mint("bob"), "select body from notes")
        self.assertEqual((code, out), (0, "bob note"), err)

    def test_alice_token_as_bob(self):
        self.assert_refused("bob", mint("alice"), "claim preferred_username is 'alice', PAM user is 'bob'")

    def test_expired(self):
        token = mint("alice", ttl=1)
        time.sleep(2.5)
        self.assert_refused("alice", token, "userinfo endpoint refused the token (HTTP 401)")

    def test_revoked(self):
        token = mint("alice")
        self.assertEqual(self.login("alice", token)[0], 0)
        IDP.revoke(token)
        self.assert_refused("alice", token, "userinfo endpoint refused the token (HTTP 401)")

    def test_tampered(self):
        token = mint("alice")
        middle = len(token) // 2
        tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
        self.assert_refused("alice", tampered, "refused the token (HTTP 401)")

    def test_garbage(self):
        self.assert_refused("alice", "this is not a token!", "outside the RFC 6750 token set")
        self.assert_refused("alice", "garbage-token-value", "refused the token (HTTP 401)")

    def test_empty(self):
        # libpq sends no empty password: the refusal happens before the module is asked.
        code, _, err, _, _ = self.login("alice", "")
        self.assertNotEqual(code, 0)
        self.assertIn("no password supplied", err)

    def test_token_over_8_kib_logs_in(self):
        token = mint("dave", scope="openid profile groups db", resource="postgres")
        self.assertGreater(len(token), 8192)
        code, out, err, _, log = self.login("dave", token)
        self.assertEqual((code, out), (0, "dave"), err)
        # The fingerprint in the log is of the whole token: psql delivered every byte to the module.
        self.assertIn(f"user=dave method=jwt token={fingerprint(token)}", log)


    def test_verdict_cache_serves_a_connection_storm(self):
        # A client opening many connections with one token asks the provider once per cache_ttl;
        # here the provider is stopped (SIGSTOP) after the first login and the rest still succeed.
        PAM.write(WS.module, [arg for arg in service_args() if arg != "cache_ttl=0"] + ["cache_ttl=60"])
        token = mint("alice")
        try:
            self.assertEqual(self.login("alice", token)[0], 0)
            IDP.pause()
            for _ in range(5):
                code, out, err, seconds, _ = self.login("alice", token)
                self.assertEqual((code, out), (0, "alice"), err)
                self.assertLess(seconds, 1.0)
            # The claim rules still run on a cached verdict.
            self.assert_refused("bob", token, "PAM user is 'bob'")
        finally:
            IDP.resume()
            PAM.write(WS.module, service_args())

    def test_zz_identity_provider_slow(self):
        token = mint("alice")
        IDP.pause()
        try:
            seconds, log = self.assert_refused("alice", token, "result=unavailable")
        finally:
            IDP.resume()
        self.assertIn("Timeout", log)
        self.assertLess(seconds, TIMEOUT + 1)


class JwtLogins(LoginCase):
    """JWT access tokens (RFC 9068) of the same provider, verified locally against its JWKS."""

    def jwt(self, user, **kwargs):
        return jwt(user, **kwargs)

    def test_jwt_logs_in(self):
        token = self.jwt("alice")
        self.assertEqual(token.count("."), 2)
        code, out, err, _, log = self.login("alice", token, "select current_user; select count(*) from notes")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines(), ["alice", "2"])
        self.assertIn("result=granted", log)
        self.assertIn("method=jwt", log)

    def test_jwt_for_other_user(self):
        self.assert_refused("bob", self.jwt("alice"), "claim preferred_username is 'alice', PAM user is 'bob'")

    def test_jwt_for_another_audience(self):
        self.assert_refused("alice", self.jwt("alice", resource="other-api"), "audience postgres not in the token's aud")

    def test_jwt_for_another_audience_tampered_never_reaches_userinfo(self):
        # The provider's userinfo decodes base64url leniently; a JWT the strict decoder refuses must
        # still be judged (and refused) by jwt, never handed on to userinfo.
        token = self.jwt("alice", resource="other-api")
        for tampered in (token + "==", token + "."):
            _, log = self.assert_refused("alice", tampered, "malformed JWT")
            self.assertIn("method=jwt", log)
            self.assertNotIn("method=userinfo", log)

    def test_jwt_expired(self):
        token = self.jwt("alice", ttl=1)
        time.sleep(2.5)
        self.assert_refused("alice", token, "token expired")

    def test_jwt_tampered(self):
        token = self.jwt("alice")
        header, payload, signature = token.split(".")
        flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
        self.assert_refused("alice", f"{header}.{payload}.{flipped}", "signature does not verify")

    def test_jwt_cannot_be_revoked_before_exp(self):
        # The documented trade-off of verify=jwt: a JWT stays valid until exp. This provider even refuses
        # to revoke structured tokens; the module, checking locally, accepts the token until it expires.
        token = self.jwt("alice")
        with self.assertRaises(urllib.error.HTTPError) as refused:
            IDP.revoke(token)
        self.assertEqual(refused.exception.code, 400)
        code, out, err, _, _ = self.login("alice", token)
        self.assertEqual((code, out), (0, "alice"), err)

    def test_jwt_missing_scope(self):
        PAM.write(WS.module, service_args("scope=db"))
        try:
            self.assertEqual(self.login("alice", self.jwt("alice"))[0], 0)
            self.assert_refused("alice", self.jwt("alice", scope="openid profile groups"), "scope db is missing")
        finally:
            PAM.write(WS.module, service_args())

    def test_jwt_groups(self):
        PAM.write(WS.module, service_args("groups=dba"))
        try:
            code, out, err, _, _ = self.login("carol", self.jwt("carol"))
            self.assertEqual((code, out), (0, "carol"), err)
            self.assert_refused("alice", self.jwt("alice"), "none of the groups")
        finally:
            PAM.write(WS.module, service_args())

    def test_jwks_is_cached_on_disk(self):
        self.assertEqual(self.login("alice", self.jwt("alice"))[0], 0)
        uid = pwd.getpwnam(fixtures.SERVICE_USER).pw_uid
        directory = os.path.join(WS.cache_dir, str(uid))
        self.assertEqual(os.stat(directory).st_mode & 0o777, 0o700)
        contents = []
        for name in os.listdir(directory):
            with open(os.path.join(directory, name)) as f:
                contents.append(f.read())
        self.assertTrue(any('"jwks_uri"' in text for text in contents))  # the discovery document
        self.assertTrue(any('"keys"' in text for text in contents))  # the JWKS


class SeedArticleLine(LoginCase):
    """The pam.d line of the article this module grew from (please-openit/pam-oauth2's form), as is:
    no option but the userinfo URL and the claim, so the provider must be trusted by the system."""

    @classmethod
    def setUpClass(cls):
        cls.trust = fixtures.SystemTrust(WS)
        PAM.write(WS.module, [IDP.userinfo_url, "preferred_username"], control="sufficient")

    @classmethod
    def tearDownClass(cls):
        PAM.write(WS.module, service_args())
        cls.trust.remove()

    def test_alice_logs_in(self):
        code, out, err, _, _ = self.login("alice", mint("alice"))
        self.assertEqual((code, out), (0, "alice"), err)

    def test_bob_cannot_use_alices_token(self):
        code, _, err, _, _ = self.login("bob", mint("alice"))
        self.assertNotEqual(code, 0)
        self.assertIn("PAM authentication failed", err)


MAP_LINE = r"/^id-(.*)$ \1"


class SeveralIssuers(LoginCase):
    """One PAM service, two identity providers in [issuer] sections of a conf file; a third one unlisted."""

    @classmethod
    def setUpClass(cls):
        cls.second = fixtures.OidcProvider(WS)
        cls.unlisted = fixtures.OidcProvider(WS)
        conf = WS.write_conf("issuers.conf", f"""
verify = jwt
ca_file = {WS.ca}
cache_dir = {WS.cache_dir}
log = stderr
leeway = 0
cache_ttl = 0

[issuer staff]
issuer = {IDP.issuer}
audience = postgres

[issuer contractors]   # its tokens are for another audience, and name the user by sub (id-NAME)
issuer = {cls.second.issuer}
audience = other-api
username_claim = sub
username_map = {WS.write_map("contractors.map", MAP_LINE)}
""")
        PAM.write(WS.module, [f"conf={conf}"])

    @classmethod
    def tearDownClass(cls):
        PAM.write(WS.module, service_args())
        cls.second.stop()
        cls.unlisted.stop()

    def token_of(self, provider, user, resource):
        token = provider.mint(user, scope="openid profile groups db", resource=resource)
        TOKENS_USED.append(token)
        return token

    def test_users_of_both_issuers_log_in(self):
        code, out, err, _, log = self.login("alice", self.token_of(IDP, "alice", "postgres"))
        self.assertEqual((code, out), (0, "alice"), err)
        self.assertIn("result=granted", log)
        code, out, err, _, log = self.login("bob", self.token_of(self.second, "bob", "other-api"))
        self.assertEqual((code, out), (0, "bob"), err)

    def test_each_issuer_keeps_its_own_rules(self):
        self.assert_refused("alice", self.token_of(self.second, "alice", "postgres"),
                            "audience other-api not in the token's aud")
        self.assert_refused("bob", self.token_of(IDP, "bob", "other-api"), "audience postgres not in the token's aud")

    def test_an_unlisted_issuer_is_refused(self):
        self.assert_refused("alice", self.token_of(self.unlisted, "alice", "postgres"),
                            f"token issuer '{self.unlisted.issuer}' matches no [issuer] section")


class IntrospectionLogins(LoginCase):
    """verify=introspect with the client secret in a conf= file."""

    def setUp(self):
        conf = introspect_conf("pam_oauth2.conf")
        # This provider's opaque tokens carry no aud (as Cognito's): the audience rule is waived on
        # purpose and the login client is required instead.
        PAM.write(WS.module, introspect_args(conf))

    def tearDown(self):
        PAM.write(WS.module, service_args())

    def test_introspect_logs_in(self):
        code, out, err, _, log = self.login("alice", mint("alice"))
        self.assertEqual((code, out), (0, "alice"), err)
        self.assertIn("method=introspect", log)
        self.assertNotIn("pg-introspect-secret", PG.log_text())

    def test_introspect_revoked(self):
        token = mint("alice")
        IDP.revoke(token)
        self.assert_refused("alice", token, "not active")

    def test_introspect_expired(self):
        token = mint("alice", ttl=1)
        time.sleep(2.5)
        self.assert_refused("alice", token, "not active")


class Pamtester(unittest.TestCase):
    """pamtester through /etc/pam.d, as a smoke check of the same service."""

    def pamtester(self, user, token):
        done = subprocess.run(["pamtester", "-v", SERVICE, user, "authenticate", "acct_mgmt"],
                              input=token + "\n", capture_output=True, text=True, timeout=30)
        return done.returncode, done.stdout + done.stderr

    def test_valid(self):
        code, out = self.pamtester("alice", mint("alice"))
        self.assertEqual(code, 0, out)
        self.assertIn("successfully authenticated", out)
        self.assertIn("account management done", out)

    def test_wrong_user(self):
        code, out = self.pamtester("bob", mint("alice"))
        self.assertNotEqual(code, 0)
        self.assertIn("Authentication failure", out)

    def test_empty(self):
        code, out = self.pamtester("alice", "")
        self.assertNotEqual(code, 0)
        self.assertIn("empty token", out)


class ThroughBroker(LoginCase):
    """The same cluster with `broker`: every method through pam_oauth2d, pgbouncer too, an outage,
    and the daemon killed in the middle of a run."""

    @classmethod
    def setUpClass(cls):
        host = urllib.parse.urlsplit(IDP.issuer).netloc  # host:port (a host alone means 443)
        cls.broker = fixtures.Broker(WS, DAEMON, host)

    @classmethod
    def tearDownClass(cls):
        PAM.write(WS.module, service_args())
        cls.broker.stop()

    def use(self, *args, fallback="deny"):
        PAM.write(WS.module, [f"broker={self.broker.socket}", f"broker_fallback={fallback}", *args])

    def test_jwt_and_userinfo_through_the_broker(self):
        self.use(*service_args())
        code, out, err, _, log = self.login("alice", jwt("alice"))
        self.assertEqual((code, out), (0, "alice"), err)
        self.assertIn("method=jwt", log)
        code, out, err, _, log = self.login("bob", mint("bob"))  # opaque: userinfo
        self.assertEqual((code, out), (0, "bob"), err)
        self.assertIn("method=userinfo", log)
        self.assert_refused("alice", mint("bob"), "PAM user is 'alice'")
        self.assertIn("result=granted", self.broker.log_text())

    def test_introspection_through_the_broker(self):
        conf = introspect_conf("broker-introspect.conf", group=fixtures.DAEMON_GROUP)
        self.use(*introspect_args(conf))
        code, out, err, _, log = self.login("carol", mint("carol"))
        self.assertEqual((code, out), (0, "carol"), err)
        self.assertIn("method=introspect", log)
        token = mint("carol")
        IDP.revoke(token)
        self.assert_refused("carol", token, "not active")
        self.assertNotIn("pg-introspect-secret", PG.log_text() + self.broker.log_text())

    def test_pgbouncer_through_the_broker_loads_no_cxx_runtime(self):
        if os.path.exists("/etc/pam.d/pgbouncer"):
            self.skipTest("/etc/pam.d/pgbouncer exists; not touching it")
        pam = fixtures.PamServiceFile("pgbouncer", WS.module,
                                      [f"broker={self.broker.socket}", "broker_fallback=deny", *userinfo_args()])
        try:
            bouncer = fixtures.PgBouncer(WS, PG)
            try:
                for user in ("alice", "bob", "alice"):
                    code, out, err, _ = fixtures.psql(bouncer.port, user, mint(user), "select current_user")
                    self.assertEqual((code, out), (0, user), err)
                with open(f"/proc/{bouncer.process.pid}/maps") as f:
                    maps = f.read()
                # The broker path of pam_oauth2.so is C and talks to a socket: pgbouncer never maps the
                # C++ runtime, the verifier or libcurl.
                for library in ("libstdc++", "pam_oauth2_inprocess", "libcurl"):
                    self.assertNotIn(library, maps)
                # The same check sees an in-process login: libstdc++ stays mapped after it.
                pam.write(WS.module, userinfo_args())
                code, _, err, _ = fixtures.psql(bouncer.port, "alice", mint("alice"), "select current_user")
                self.assertEqual(code, 0, err)
                with open(f"/proc/{bouncer.process.pid}/maps") as f:
                    self.assertIn("libstdc++", f.read())
            finally:
                bouncer.stop()
        finally:
            pam.remove()

    def test_provider_outage_jwt_from_memory_userinfo_unavailable(self):
        self.use(*service_args())
        warm = jwt("alice")
        self.assertEqual(self.login("alice", warm)[0], 0)  # the daemon now holds the JWKS
        later_jwt, opaque = jwt("dave"), mint("dave")
        IDP.pause()
        try:
            code, out, err, _, log = self.login("dave", later_jwt)
            self.assertEqual((code, out), (0, "dave"), err)
            seconds, log = self.assert_refused("dave", opaque, "result=unavailable")
            self.assertLess(seconds, TIMEOUT + 2)
        finally:
            IDP.resume()

    def test_zz_daemon_killed_mid_run(self):
        self.use(*service_args(), fallback="local")
        self.assertEqual(self.login("alice", mint("alice"))[0], 0)
        self.broker.kill()
        code, out, err, _, log = self.login("alice", mint("alice"))
        self.assertEqual((code, out), (0, "alice"), err)
        self.assertIn("broker unavailable, verifying in-process", log)
        self.assert_refused("alice", mint("bob"), "PAM user is 'alice'")
        self.use(*service_args(), fallback="deny")
        self.assert_refused("alice", mint("alice"), "broker_fallback=deny")


class ThroughPgbouncer(unittest.TestCase):
    """pgbouncer 1.18 (auth_type = pam) passes at most 2047 bytes of a password on."""

    @classmethod
    def setUpClass(cls):
        if os.path.exists("/etc/pam.d/pgbouncer"):
            raise unittest.SkipTest("/etc/pam.d/pgbouncer exists; not touching it")
        cls.pam = fixtures.PamServiceFile("pgbouncer", WS.module, userinfo_args())
        try:
            cls.bouncer = fixtures.PgBouncer(WS, PG)
        except BaseException:
            cls.pam.remove()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.bouncer.stop()
        cls.pam.remove()

    def test_short_token_logs_in(self):
        code, out, err, _ = fixtures.psql(self.bouncer.port, "alice", mint("alice"), "select current_user")
        self.assertEqual((code, out), (0, "alice"), err)

    def test_token_helper_through_pgbouncer(self):
        # docs/clients.md, pgbouncer: an opaque token (no resource) stays far below 2047 bytes.
        helper = fixtures.TokenHelper(TOKEN_HELPER, IDP, WS)
        self.addCleanup(helper.remove)
        args = ["--issuer", IDP.issuer, "--client-id", "pg-cli", "--scope", "openid profile offline_access",
                "--ca-file", WS.ca, "--store", "file"]
        code, out, err, user_code = helper.run(*args, "--", "psql", "-h", "127.0.0.1", "-p", str(self.bouncer.port),
                                               "-U", "alice", "-d", "postgres", "-Atc", "select current_user",
                                               approve_as="alice", base=False)
        self.assertEqual((code, out.strip()), (0, "alice"), err)
        self.assertIsNotNone(user_code)
        helper.run(*args, "--logout", base=False)

    def test_long_token_is_cut_and_the_log_says_so(self):
        token = mint("erin", scope="openid profile groups db", resource="postgres")
        self.assertTrue(2048 <= len(token) <= 4090, len(token))
        code, _, _, _ = fixtures.psql(self.bouncer.port, "erin", token, "select 1")
        self.assertNotEqual(code, 0)
        self.assertIn("looks cut by the client", self.bouncer.module_log())
        self.assertIn("(2047 bytes arrived)", self.bouncer.module_log())


class NodePostgres(unittest.TestCase):
    """A client that does not use libpq: node-postgres (pure JavaScript protocol implementation)."""

    def connect(self, user, token):
        env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(PG.port), PGUSER=user, PGDATABASE="postgres",
                   PGPASSWORD=token)
        done = subprocess.run(["node", os.path.join(fixtures.HERE, "idp", "pg_client.js")], env=env,
                              capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout.strip(), done.stderr.strip()

    def test_token_logs_in(self):
        code, out, err = self.connect("carol", mint("carol"))
        self.assertEqual((code, out), (0, "carol"), err)

    def test_wrong_user_refused(self):
        code, _, err = self.connect("alice", mint("carol"))
        self.assertNotEqual(code, 0)
        self.assertIn("PAM authentication failed", err)


class ClientRecipes(unittest.TestCase):
    """docs/clients.md, run as written: pam_oauth2_token signs alice in once with the device flow,
    then psql, a libpq service file, node-postgres, pgjdbc and psycopg log in with the tokens it
    hands out."""

    @classmethod
    def setUpClass(cls):
        cls.helper = fixtures.TokenHelper(TOKEN_HELPER, IDP, WS)
        cls.helper.write_profile("prod")
        code, _, err, user_code = cls.helper.run("-p", "prod", approve_as="alice", base=False)
        if code != 0 or user_code is None:
            cls.helper.remove()
            raise RuntimeError("the device-flow sign-in failed: " + err)
        cls.env = dict(cls.helper.env, PGHOST="127.0.0.1", PGPORT=str(PG.port), PGUSER="alice",
                       PGDATABASE="postgres")

    @classmethod
    def tearDownClass(cls):
        cls.helper.run("-p", "prod", "--logout", base=False)
        cls.helper.remove()

    def run_recipe(self, *command, env=None):
        done = subprocess.run(command, env=env or self.env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout.strip(), done.stderr.strip()

    def test_psql_through_the_helper(self):
        code, out, err = self.run_recipe(TOKEN_HELPER, "-p", "prod", "--", "psql", "-Atc", "select current_user")
        self.assertEqual((code, out), (0, "alice"), err)
        code, out, err = self.run_recipe(TOKEN_HELPER, "-p", "prod", "--passfile", "--", "psql", "-Atc",
                                         "select count(*) from notes")
        self.assertEqual((code, out), (0, "2"), err)  # row level security: alice's two notes

    def test_psql_with_a_service_file(self):
        with open(os.path.join(self.helper.home, ".pg_service.conf"), "w") as f:
            f.write(f"[db]\nhost=127.0.0.1\nport={PG.port}\nuser=alice\ndbname=postgres\n")
        code, out, err = self.run_recipe(TOKEN_HELPER, "-p", "prod", "--", "psql", "service=db", "-Atc",
                                         "select current_user", env=self.helper.env)
        self.assertEqual((code, out), (0, "alice"), err)

    def test_node_postgres(self):
        env = dict(self.env, NODE_PATH=os.path.join(fixtures.HERE, "idp", "node_modules"))
        code, out, err = self.run_recipe("node", os.path.join(DOCS, "clients", "node-postgres.cjs"), env=env)
        self.assertEqual((code, out), (0, "alice"), err)

    def test_pgjdbc_plugin(self):
        classes = os.path.join(self.helper.home, "classes")
        jar = "/usr/share/java/postgresql.jar"
        subprocess.run(["javac", "-d", classes, "-cp", jar, os.path.join(DOCS, "clients", "PamOauth2TokenPlugin.java"),
                        os.path.join(fixtures.HERE, "JdbcLogin.java")], check=True, capture_output=True, timeout=180)
        url = (f"jdbc:postgresql://127.0.0.1:{PG.port}/postgres?user=alice"
               "&authenticationPluginClassName=PamOauth2TokenPlugin")
        code, out, err = self.run_recipe("java", "-cp", classes + os.pathsep + jar, "JdbcLogin", url)
        self.assertEqual((code, out), (0, "alice"), err)

    def test_psycopg(self):
        # Debian's python3-psycopg belongs to Debian's interpreter.
        code, out, err = self.run_recipe("/usr/bin/python3", os.path.join(DOCS, "clients", "psycopg_token.py"))
        self.assertEqual((code, out), (0, "alice"), err)

    def test_without_a_sign_in_the_recipes_fail_clearly(self):
        other = fixtures.TokenHelper(TOKEN_HELPER, IDP, WS)
        self.addCleanup(other.remove)
        other.write_profile("prod")
        env = dict(other.env, PGHOST="127.0.0.1", PGPORT=str(PG.port), PGUSER="alice", PGDATABASE="postgres")
        code, _, err = self.run_recipe("/usr/bin/python3", os.path.join(DOCS, "clients", "psycopg_token.py"), env=env)
        self.assertNotEqual(code, 0)
        self.assertIn("--no-prompt forbids a sign-in", err)


class ZzIdentityProviderStopped(unittest.TestCase):
    """Runs last: stops the identity provider for good."""

    def test_refused_and_log_says_why(self):
        token = mint("alice")
        IDP.stop()
        offset = len(PG.log_text())
        code, _, err, seconds = fixtures.psql(PG.port, "alice", token, "select 1")
        time.sleep(0.1)
        log = pg_log_since(offset)
        self.assertNotEqual(code, 0)
        self.assertIn("result=unavailable", log)
        self.assertIn("Couldn't connect to server", log)
        self.assertLess(seconds, TIMEOUT + 1)


class ZzzSecrets(unittest.TestCase):
    def test_no_token_in_any_log(self):
        logs = PG.log_text()
        for broker_log in glob.glob(WS.path("broker-*/pam_oauth2d.log")):
            with open(broker_log, errors="replace") as f:
                logs += f.read()
        if os.path.exists(WS.path("pgbouncer.stderr")):
            with open(WS.path("pgbouncer.stderr"), errors="replace") as f:
                logs += f.read()
        self.assertGreater(len(TOKENS_USED), 10)
        for token in TOKENS_USED:
            self.assertNotIn(token, logs)
            self.assertNotIn(token[:2047], logs)


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("the end-to-end tests need root: they write /etc/pam.d/<service> and run PostgreSQL as postgres")
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--daemon", help="pam_oauth2d (default: beside the module's build tree, or the installed one)")
    parser.add_argument("--token-helper", help="pam_oauth2_token (default: the build tree's, or the installed one)")
    options, rest = parser.parse_known_args()
    TOKEN_HELPER = options.token_helper or (
        os.path.join(os.path.dirname(os.path.abspath(options.module)), "..", "tools", "pam_oauth2_token")
        if os.sep in options.module else "/usr/bin/pam_oauth2_token")
    TOKEN_HELPER = os.path.abspath(TOKEN_HELPER)
    DAEMON = options.daemon or (os.path.join(os.path.dirname(os.path.abspath(options.module)), "daemon", "pam_oauth2d")
                                if os.sep in options.module else "/usr/sbin/pam_oauth2d")
    # A bare name (pam_oauth2.so) means the installed module, found by libpam in its own directory.
    MODULE = os.path.abspath(options.module) if os.sep in options.module else options.module
    unittest.main(argv=[sys.argv[0], "-v", *rest])
