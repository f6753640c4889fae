#!/usr/bin/env python3
"""OpenID Connect back-channel logout through a real pam_oauth2d and the real oidc-provider
(tests/e2e/idp/idp.js): the provider posts a logout token for alice; her next login with the same
still-unexpired token asks the provider again; bad logout tokens are refused one log line each and
end nothing; the endpoint is rate-limited and off by default.

    test_logout.py --module pam_oauth2.so --driver pam_driver --daemon pam_oauth2d
"""
import argparse
import base64
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import fixtures  # noqa: E402
import pam_harness  # noqa: E402
import redis_server  # noqa: E402
import test_ca  # noqa: E402

MODULE = DRIVER = DAEMON = None
SUCCESS, AUTH_ERR = "PAM_SUCCESS", "PAM_AUTH_ERR"
EVENT = "http://schemas.openid.net/event/backchannel-logout"
CLIENT = "pg-logout"


class LogoutProvider(fixtures.OidcProvider):
    """idp.js with its back-channel logout client pointing at `logout_uri`."""

    def __init__(self, workspace, logout_uri, extra_env=None):
        self.workspace = workspace
        self.log_path = workspace.path("idp.log")
        self.log = open(self.log_path, "w")
        env = dict(os.environ, PAM_OAUTH2_TEST_LOGOUT_URI=logout_uri, **(extra_env or {}))
        self.process = subprocess.Popen(
            ["node", os.path.join(fixtures.HERE, "idp", "idp.js"), "--cert", workspace.cert, "--key", workspace.key],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        line = self.process.stdout.readline().split()
        if len(line) != 2 or line[0] != "ready":
            self.stop()
            raise RuntimeError("identity provider did not start; see " + self.log_path)
        self.issuer = line[1]
        self.userinfo_url = self.issuer + "/me"
        self._tls = ssl.create_default_context(cafile=workspace.ca)

    def test_post(self, path, fields):
        request = urllib.request.Request(self.issuer + path, data=urllib.parse.urlencode(fields).encode())
        try:
            with urllib.request.urlopen(request, context=self._tls, timeout=20) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def end_sign_in(self, username):
        """The provider posts a logout token for `username` to the daemon (its answer must be 200)."""
        return self.test_post("/test/logout", {"username": username})

    def signed(self, claims, header=None):
        return self.test_post("/test/logout-token", {"claims": json.dumps(claims), "header": json.dumps(header or {})})[1]


def setUpModule():
    global WS, IDP, LOGOUT_PORT
    WS = fixtures.Workspace("pam_oauth2.so")
    LOGOUT_PORT = pam_harness.free_port()
    IDP = LogoutProvider(WS, f"http://127.0.0.1:{LOGOUT_PORT}/logout")


def tearDownModule():
    IDP.stop()
    WS.remove()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def post(port, body, content_type="application/x-www-form-urlencoded", method="POST"):
    """(status, headers, body) of one request to the logout endpoint."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/logout", data=body, method=method)
    request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def start_daemon(logout=True, extra=""):
    metrics = pam_harness.free_port()
    lines = [f"metrics = 127.0.0.1:{metrics}"]
    if logout:
        lines += [f"logout_listen = 127.0.0.1:{LOGOUT_PORT}", f"logout_issuer = {IDP.issuer} {CLIENT}",
                  f"logout_ca_file = {WS.ca}"]
    host = urllib.parse.urlsplit(IDP.issuer).netloc
    daemon = pam_harness.Daemon(DAEMON, allow_hosts=host, extra="\n".join(lines) + "\n" + extra)
    daemon.metrics_port = metrics
    if logout:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", LOGOUT_PORT), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("no logout listener: " + daemon.log())
                time.sleep(0.05)
    return daemon


def metrics(daemon):
    with urllib.request.urlopen(f"http://127.0.0.1:{daemon.metrics_port}/metrics", timeout=5) as answer:
        return answer.read().decode()


def metric(daemon, name):
    found = re.search("^" + re.escape(name) + r" (\d+)$", metrics(daemon), re.M)
    return int(found.group(1)) if found else 0


def provider_requests(daemon):
    found = re.search(r'^pam_oauth2d_provider_requests_total\{host="127\.0\.0\.1"\} (\d+)$', metrics(daemon), re.M)
    return int(found.group(1)) if found else 0


def userinfo_args():
    return ["verify=userinfo", f"userinfo_url={IDP.userinfo_url}", f"ca_file={WS.ca}", "cache_ttl=300"]


def jwt_args():
    return ["verify=jwt", f"issuer={IDP.issuer}", "audience=postgres", f"ca_file={WS.ca}"]


def login(daemon, args, user, token):
    service = pam_harness.PamService(MODULE, ["log=stderr", f"broker={daemon.socket}", "broker_fallback=deny", *args])
    try:
        auth, _acct, log, _seconds = pam_harness.run_driver(DRIVER, service, user, token)
        return auth, log
    finally:
        service.remove()


def good_claims(sub="id-carol", **extra):
    claims = {"iss": IDP.issuer, "aud": CLIENT, "iat": int(time.time()), "jti": secrets.token_hex(8), "sub": sub,
              "events": {EVENT: {}}}
    claims.update(extra)
    return claims


class BackChannelLogout(unittest.TestCase):
    def setUp(self):
        self.daemon = start_daemon(extra="logout_rate = 1000")  # the rate limit has its own test

    def tearDown(self):
        print(self.daemon.log()[-4000:], file=sys.stderr)
        self.daemon.stop()

    def refusals(self):
        return self.daemon.log().count("back-channel logout refused")

    def test_the_provider_logs_alice_out_and_her_cached_verdict_stops_answering(self):
        alice, bob = IDP.mint("alice"), IDP.mint("bob")
        alice_jwt, bob_jwt = IDP.mint("alice", resource="postgres"), IDP.mint("bob", resource="postgres")
        for user, token in (("alice", alice), ("bob", bob)):
            auth, log = login(self.daemon, userinfo_args(), user, token)
            self.assertEqual(auth, SUCCESS, log)
        for user, token in (("alice", alice_jwt), ("bob", bob_jwt)):
            self.assertEqual(login(self.daemon, jwt_args(), user, token)[0], SUCCESS)
        # The provider now refuses alice's token, but the verdict cached for it still answers: that
        # is what the logout must end.
        IDP.revoke(alice)
        asked = provider_requests(self.daemon)
        self.assertEqual(login(self.daemon, userinfo_args(), "alice", alice)[0], SUCCESS)
        self.assertEqual(provider_requests(self.daemon), asked)

        status, body = IDP.end_sign_in("alice")
        self.assertEqual((status, body), (200, ""))
        self.assertEqual(metric(self.daemon, "pam_oauth2d_logout_tokens_accepted_total"), 1)
        self.assertIn("back-channel logout accepted: iss=", self.daemon.log())

        auth, log = login(self.daemon, userinfo_args(), "alice", alice)
        self.assertEqual(auth, AUTH_ERR, log)
        self.assertEqual(provider_requests(self.daemon), asked + 1)  # asked the provider again
        self.assertEqual(metric(self.daemon, "pam_oauth2d_signed_out_verdicts_total"), 1)
        # A JWT has no provider to ask: one issued before the logout is refused.
        auth, log = login(self.daemon, jwt_args(), "alice", alice_jwt)
        self.assertEqual(auth, AUTH_ERR, log)
        self.assertIn("back-channel logout", log)
        # bob is unaffected, still answered from memory.
        self.assertEqual(login(self.daemon, userinfo_args(), "bob", bob)[0], SUCCESS)
        self.assertEqual(login(self.daemon, jwt_args(), "bob", bob_jwt)[0], SUCCESS)
        self.assertEqual(provider_requests(self.daemon), asked + 1)
        # alice signs in again: her new tokens work.
        self.assertEqual(login(self.daemon, userinfo_args(), "alice", IDP.mint("alice"))[0], SUCCESS)
        time.sleep(1.1)  # iat is in seconds: a JWT of the same second as the logout is refused
        self.assertEqual(login(self.daemon, jwt_args(), "alice", IDP.mint("alice", resource="postgres"))[0], SUCCESS)
        self.assertNotIn(alice, self.daemon.log())

    def test_bad_logout_tokens_are_refused_one_line_each_and_end_nothing(self):
        alice = IDP.mint("alice")
        self.assertEqual(login(self.daemon, userinfo_args(), "alice", alice)[0], SUCCESS)
        good = IDP.signed(good_claims())
        other = IDP.signed(good_claims())
        head, payload, _sig = good.split(".")
        alice_claims = good_claims("id-alice")
        bad = {
            "wrong signature": ".".join([head, payload, other.split(".")[2]]),
            "alg none": b64(json.dumps({"alg": "none"}).encode()) + "." + b64(json.dumps(alice_claims).encode()) + ".",
            "wrong aud": IDP.signed(good_claims("id-alice", aud="someone-else")),
            "wrong iss": IDP.signed(good_claims("id-alice", iss="https://evil.example.com")),
            "missing events": IDP.signed({k: v for k, v in alice_claims.items() if k != "events"}),
            "nonce": IDP.signed(good_claims("id-alice", nonce="n-1")),
            "old iat": IDP.signed(good_claims("id-alice", iat=int(time.time()) - 3600)),
            "typ JWT": IDP.signed(good_claims("id-alice"), {"typ": "JWT"}),
        }
        self.assertEqual(post(LOGOUT_PORT, urllib.parse.urlencode({"logout_token": good}).encode())[0], 200)
        cases = [(name, urllib.parse.urlencode({"logout_token": token}).encode(), {}) for name, token in bad.items()]
        cases += [
            ("replayed jti", urllib.parse.urlencode({"logout_token": good}).encode(), {}),
            ("content type", urllib.parse.urlencode({"logout_token": good}).encode(), {"content_type": "application/json"}),
            ("no token", b"other=1", {}),
        ]
        for name, body, options in cases:
            before = self.refusals()
            status, headers, text = post(LOGOUT_PORT, body, **options)
            self.assertEqual(status, 400, name)
            self.assertEqual(json.loads(text)["error"], "invalid_request", name)
            self.assertEqual(headers.get("Cache-Control"), "no-store", name)
            self.assertEqual(self.refusals(), before + 1, name)
        for name, body, options, expected in (
                ("oversized", b"logout_token=" + b"a" * 20000, {}, 413),
                ("GET", None, {"method": "GET"}, 405)):
            before = self.refusals()
            self.assertEqual(post(LOGOUT_PORT, body, **options)[0], expected, name)
            self.assertEqual(self.refusals(), before + 1, name)
        text = metrics(self.daemon)
        for reason in ("signature", "alg", "aud", "iss", "events", "nonce", "iat", "typ", "replay", "too_large"):
            self.assertIn(f'pam_oauth2d_logout_tokens_refused_total{{reason="{reason}"}}', text)
        self.assertEqual(metric(self.daemon, "pam_oauth2d_logout_tokens_accepted_total"), 1)  # carol's only
        # Nothing ended: alice is still answered from memory, without the provider.
        asked = provider_requests(self.daemon)
        self.assertEqual(login(self.daemon, userinfo_args(), "alice", alice)[0], SUCCESS)
        self.assertEqual(provider_requests(self.daemon), asked)
        log = self.daemon.log()
        for token in bad.values():
            self.assertNotIn(token, log)
        self.assertNotIn(good, log)


class Fleet(unittest.TestCase):
    """Two hosts share one Redis: a logout posted to one reaches the other through a sealed marker."""

    def setUp(self):
        self.dir = WS.path("fleet-" + secrets.token_hex(4))
        os.makedirs(self.dir)
        self.redis = redis_server.RedisServer(self.dir, "redis")
        secrets_written = {}
        for name, text in (("fleet.key", secrets.token_urlsafe(48)), ("password", redis_server.PASSWORD)):
            path = os.path.join(self.dir, name)
            with open(path, "w") as f:
                f.write(text + "\n")
            os.chmod(path, 0o600)
            secrets_written[name] = path
        self.shared = (f"shared_cache = redis://cache@127.0.0.1:{self.redis.port}/0\n"
                       f"shared_cache_key_file = {secrets_written['fleet.key']}\nshared_cache_prefix = po2:\n"
                       f"shared_cache_password_file = {secrets_written['password']}\n")
        self.daemons = []

    def tearDown(self):
        for daemon in self.daemons:
            daemon.stop()
        self.redis.stop()

    def test_a_logout_received_by_one_host_stops_the_verdicts_of_another(self):
        receiver = start_daemon(extra=self.shared)
        self.daemons.append(receiver)
        # No endpoint of its own; its logout_issuer line makes it honour the fleet's logouts.
        other = start_daemon(logout=False, extra=self.shared + f"logout_issuer = {IDP.issuer} {CLIENT}\n")
        self.daemons.append(other)
        alice, bob = IDP.mint("alice"), IDP.mint("bob")
        for token, user in ((alice, "alice"), (bob, "bob")):
            self.assertEqual(login(other, userinfo_args(), user, token)[0], SUCCESS)
        IDP.revoke(alice)
        self.assertEqual(login(other, userinfo_args(), "alice", alice)[0], SUCCESS)  # cached on that host
        asked = provider_requests(other)
        self.assertEqual(IDP.end_sign_in("alice"), (200, ""))
        # The other host looks for a marker at most once per marker_recheck_seconds (5) per sub.
        time.sleep(5.2)
        auth, log = login(other, userinfo_args(), "alice", alice)
        self.assertEqual(auth, AUTH_ERR, log)
        self.assertEqual(provider_requests(other), asked + 1)
        self.assertEqual(login(other, userinfo_args(), "bob", bob)[0], SUCCESS)
        self.assertEqual(provider_requests(other), asked + 1)


class Limits(unittest.TestCase):
    def test_over_the_rate_limit_is_429(self):
        daemon = start_daemon(extra="logout_rate = 2")
        try:
            statuses = [post(LOGOUT_PORT, b"logout_token=x")[0] for _ in range(6)]
            self.assertEqual(statuses[:2], [400, 400])
            self.assertIn(429, statuses[2:])
            self.assertIn('pam_oauth2d_logout_tokens_refused_total{reason="rate"}', metrics(daemon))
        finally:
            daemon.stop()

    def test_the_endpoint_is_off_by_default(self):
        daemon = start_daemon(logout=False)
        try:
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", LOGOUT_PORT), timeout=1).close()
            self.assertEqual(IDP.end_sign_in("alice")[0], 502)  # nobody listens for the provider's post
            self.assertIn("pam_oauth2d_logout_tokens_accepted_total 0", metrics(daemon))
        finally:
            daemon.stop()


def tls_daemon_lines(idp, port, cert, key):
    return [f"logout_listen = 127.0.0.1:{port}", f"logout_issuer = {idp.issuer} {CLIENT}", f"logout_ca_file = {WS.ca}",
            f"logout_tls_cert_file = {cert}", f"logout_tls_key_file = {key}", "logout_rate = 1000"]


def check_config(lines):
    """(exit status, stderr) of pam_oauth2d --check-config on a file of `lines` (and allow_users)."""
    directory = WS.path("conf-" + secrets.token_hex(4))
    os.makedirs(directory)
    path = os.path.join(directory, "pam_oauth2d.conf")
    with open(path, "w") as f:
        f.write(f"allow_users = root\nuser = nobody\nallow_hosts = {urllib.parse.urlsplit(IDP.issuer).netloc}\n"
                + "\n".join(lines) + "\n")
    os.chmod(path, 0o644)
    done = subprocess.run([DAEMON, "--config", path, "--check-config"], capture_output=True, text=True, timeout=30)
    return done.returncode, done.stderr


class OverTls(unittest.TestCase):
    """TLS on the logout endpoint: the provider posts over https (trusting the test CA through
    NODE_EXTRA_CA_CERTS, as a site would add its own CA); plain HTTP to that port ends nothing; a
    client that stalls in the handshake holds up no other logout."""

    @classmethod
    def setUpClass(cls):
        cls.dir = WS.path("tls-" + secrets.token_hex(4))
        os.makedirs(cls.dir)
        cls.cert, cls.key = test_ca.make_server_cert(cls.dir, WS.ca, name="logout")
        os.chmod(cls.key, 0o600)
        cls.port = pam_harness.free_port()
        cls.idp = LogoutProvider(WS, f"https://127.0.0.1:{cls.port}/logout", {"NODE_EXTRA_CA_CERTS": WS.ca})
        cls.tls = ssl.create_default_context(cafile=WS.ca)

    @classmethod
    def tearDownClass(cls):
        cls.idp.stop()

    def setUp(self):
        metrics_port = pam_harness.free_port()
        lines = [f"metrics = 127.0.0.1:{metrics_port}", *tls_daemon_lines(self.idp, self.port, self.cert, self.key)]
        self.host = urllib.parse.urlsplit(self.idp.issuer).netloc
        self.extra = "\n".join(lines) + "\n"
        # Started as root, it drops to nobody: the key (root, 0600) is read before that.
        self.daemon = pam_harness.Daemon(DAEMON, allow_hosts=self.host, extra=self.extra)
        self.daemon.metrics_port = metrics_port
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("no logout listener: " + self.daemon.log())
                time.sleep(0.05)

    def tearDown(self):
        print(self.daemon.log()[-4000:], file=sys.stderr)
        self.daemon.stop()

    def args(self):
        return ["verify=userinfo", f"userinfo_url={self.idp.issuer}/me", f"ca_file={WS.ca}", "cache_ttl=300"]

    def signed_in_and_cached(self, user):
        """A token of `user`, logged in once, then revoked at the provider but still answered from memory."""
        token = self.idp.mint(user)
        auth, log = login(self.daemon, self.args(), user, token)
        self.assertEqual(auth, SUCCESS, log)
        self.idp.revoke(token)
        asked = provider_requests(self.daemon)
        self.assertEqual(login(self.daemon, self.args(), user, token)[0], SUCCESS)
        self.assertEqual(provider_requests(self.daemon), asked)
        return token

    def logout_token(self, sub):
        claims = {"iss": self.idp.issuer, "aud": CLIENT, "iat": int(time.time()), "jti": secrets.token_hex(8),
                  "sub": sub, "events": {EVENT: {}}}
        return self.idp.signed(claims)

    def post_tls(self, body):
        request = urllib.request.Request(f"https://127.0.0.1:{self.port}/logout", data=body, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(request, timeout=20, context=self.tls) as answer:
            return answer.status, answer.read().decode()

    def test_the_provider_posts_over_https_and_alices_verdict_is_dropped(self):
        alice, bob = self.signed_in_and_cached("alice"), self.signed_in_and_cached("bob")
        self.assertEqual(self.idp.end_sign_in("alice"), (200, ""))
        self.assertEqual(metric(self.daemon, "pam_oauth2d_logout_tokens_accepted_total"), 1)
        asked = provider_requests(self.daemon)  # the logout's own discovery and JWKS included
        auth, log = login(self.daemon, self.args(), "alice", alice)
        self.assertEqual(auth, AUTH_ERR, log)
        self.assertEqual(provider_requests(self.daemon), asked + 1)  # asked the provider again
        self.assertEqual(login(self.daemon, self.args(), "bob", bob)[0], SUCCESS)  # still from memory
        self.assertEqual(provider_requests(self.daemon), asked + 1)

    def test_plain_http_to_the_tls_port_fails_and_ends_nothing(self):
        alice = self.signed_in_and_cached("alice")
        body = urllib.parse.urlencode({"logout_token": self.logout_token("id-alice")}).encode()
        request = (b"POST /logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                   b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as plain:
            plain.sendall(request)
            answer = b""
            try:
                while chunk := plain.recv(4096):
                    answer += chunk
            except ConnectionResetError:
                pass
        self.assertNotIn(b"HTTP/", answer)
        self.assertEqual(metric(self.daemon, "pam_oauth2d_logout_tokens_accepted_total"), 0)
        asked = provider_requests(self.daemon)
        self.assertEqual(login(self.daemon, self.args(), "alice", alice)[0], SUCCESS)  # nothing ended
        self.assertEqual(provider_requests(self.daemon), asked)
        # The very same token over TLS is accepted: only the transport was refused.
        self.assertEqual(self.post_tls(body), (200, ""))
        self.assertEqual(login(self.daemon, self.args(), "alice", alice)[0], AUTH_ERR)
        self.assertNotIn(body.decode().split("=", 1)[1], self.daemon.log())

    def test_a_client_stalled_in_the_handshake_holds_up_no_other_logout(self):
        bob = self.signed_in_and_cached("bob")
        self.assertEqual(self.idp.end_sign_in("dave"), (200, ""))  # the issuer's keys fetched beforehand
        silent = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        half = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        opened = time.monotonic()
        half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello that stops short
        time.sleep(0.1)  # both accepted, both stalled
        started = time.monotonic()
        self.assertEqual(self.idp.end_sign_in("bob"), (200, ""))
        served = time.monotonic() - started
        # Served while both stalled clients were still connected, not after their deadline.
        for stalled in (silent, half):
            stalled.setblocking(False)
            with self.assertRaises(BlockingIOError, msg=f"served after {served:.2f} s"):
                stalled.recv(1)
        self.assertEqual(login(self.daemon, self.args(), "bob", bob)[0], AUTH_ERR)
        # Each is closed unanswered once the request's 1 s is up.
        for stalled in (silent, half):
            stalled.settimeout(5)
            self.assertEqual(stalled.recv(4096)[:1] in (b"", b"\x15"), True)
            stalled.close()
        self.assertLess(time.monotonic() - opened, 4)

    def test_a_reload_keeps_the_endpoint_and_its_certificate(self):
        carol = self.signed_in_and_cached("carol")
        # Running as nobody, the daemon could not read the root-only key again: a reload keeps it.
        self.daemon.reload("root", self.host, self.extra)
        self.assertEqual(self.idp.end_sign_in("carol"), (200, ""))
        self.assertEqual(login(self.daemon, self.args(), "carol", carol)[0], AUTH_ERR)


class TlsConfiguration(unittest.TestCase):
    """The TLS keys go together, the key is a secret file, and only TLS opens the endpoint beyond loopback."""

    def setUp(self):
        self.dir = WS.path("tls-conf-" + secrets.token_hex(4))
        os.makedirs(self.dir)
        self.cert, self.key = test_ca.make_server_cert(self.dir, WS.ca, name="logout")
        os.chmod(self.key, 0o600)
        self.port = pam_harness.free_port()

    def lines(self, listen="127.0.0.1", cert=None, key=None):
        return [f"logout_listen = {listen}:{self.port}", f"logout_issuer = {IDP.issuer} {CLIENT}",
                *([f"logout_tls_cert_file = {cert}"] if cert else []), *([f"logout_tls_key_file = {key}"] if key else [])]

    def test_a_certificate_without_its_key_refuses_the_start(self):
        status, err = check_config(self.lines(cert=self.cert))
        self.assertEqual(status, 1, err)
        self.assertIn("logout_tls_cert_file and logout_tls_key_file go together", err)
        # The daemon itself refuses to start, the same way.
        directory = WS.path("start-" + secrets.token_hex(4))
        os.makedirs(directory)
        path = os.path.join(directory, "pam_oauth2d.conf")
        with open(path, "w") as f:
            f.write(f"allow_users = root\nuser = nobody\nsocket = {directory}/broker.sock\n"
                    f"allow_hosts = {urllib.parse.urlsplit(IDP.issuer).netloc}\n" + "\n".join(self.lines(cert=self.cert)) + "\n")
        os.chmod(path, 0o644)
        done = subprocess.run([DAEMON, "--config", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("configuration error", done.stderr)
        self.assertFalse(os.path.exists(f"{directory}/broker.sock"))
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()

    def test_the_key_must_be_private_and_match(self):
        self.assertEqual(check_config(self.lines(cert=self.cert, key=self.key))[0], 0)
        os.chmod(self.key, 0o640)
        status, err = check_config(self.lines(cert=self.cert, key=self.key))
        self.assertEqual(status, 1, err)
        self.assertIn("must not be readable by group or others", err)
        os.chmod(self.key, 0o600)
        status, err = check_config(self.lines(cert=self.cert, key=WS.key))  # the provider's key
        self.assertEqual(status, 1, err)
        self.assertIn("is not the certificate's private key", err)
        with open(self.key) as f:
            self.assertNotIn(f.read().splitlines()[1], err)
        status, err = check_config(self.lines(cert=self.key, key=self.key))
        self.assertEqual(status, 1, err)
        self.assertIn("holds no PEM certificate", err)

    def test_beyond_loopback_only_with_tls(self):
        status, err = check_config(self.lines(listen="0.0.0.0"))
        self.assertEqual(status, 1, err)
        self.assertIn("logout_listen must be a loopback HOST:PORT unless logout_tls_cert_file", err)
        self.assertEqual(check_config(self.lines(listen="0.0.0.0", cert=self.cert, key=self.key))[0], 0)
        status, err = check_config([f"logout_tls_cert_file = {self.cert}", f"logout_tls_key_file = {self.key}"])
        self.assertEqual(status, 1, err)
        self.assertIn("need logout_listen", err)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--driver", required=True)
    parser.add_argument("--daemon", required=True)
    options, rest = parser.parse_known_args()
    MODULE, DRIVER, DAEMON = options.module, options.driver, options.daemon
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
