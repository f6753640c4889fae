#!/usr/bin/env python3
"""End to end: pam_oauth2d ends real PostgreSQL 15 sessions opened through the broker with real
oidc-provider tokens: at exp + grace, after a maximum age, as a daemon default; never a backend whose
start does not match the record; and when the terminating role lacks the right or PostgreSQL cannot
be reached, the failure is logged once, counted, and logins go on.

    test_sessions.py --module build/pam_oauth2/pam_oauth2.so --daemon build/pam_oauth2/daemon/pam_oauth2d

Needs root (writes /etc/pam.d/<two test services> and removes them). Leaves nothing running.
"""

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

import fixtures

MODULE = DAEMON = None
SERVICE = f"pam_oauth2_test_sessions_{os.getpid()}"  # alice and bob log in through this line
PLAIN = f"pam_oauth2_test_sessions_plain_{os.getpid()}"  # carol's line: no session option
TERMINATOR, TERMINATOR_PASSWORD = "pam_oauth2_terminator", "terminator-test-password"
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pam_oauth2", "daemon",
                      "session_terminator.cpp")
TOKENS = []


def setUpModule():
    global WS, IDP, PG, PAM, PAM_PLAIN
    WS = fixtures.Workspace(MODULE)
    IDP = PG = PAM = PAM_PLAIN = None
    try:
        IDP = fixtures.OidcProvider(WS)
        PAM = fixtures.PamServiceFile(SERVICE, WS.module, ["log=stderr"])
        PAM_PLAIN = fixtures.PamServiceFile(PLAIN, WS.module, ["log=stderr"])
        PG = fixtures.PostgresCluster(WS, SERVICE)
        # The terminating role authenticates by password, never through pam_oauth2 (first match wins).
        with open(os.path.join(PG.data, "pg_hba.conf"), "w") as f:
            f.write("local all postgres peer\n"
                    f"host all {TERMINATOR} 127.0.0.1/32 scram-sha-256\n"
                    f"host all carol 127.0.0.1/32 pam pamservice={PLAIN}\n"
                    f"host all all 127.0.0.1/32 pam pamservice={SERVICE}\n")
        PG.admin_sql(f"""
            CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN; CREATE ROLE carol LOGIN;
            CREATE ROLE {TERMINATOR} LOGIN PASSWORD '{TERMINATOR_PASSWORD}';
            GRANT pg_signal_backend, pg_read_all_stats TO {TERMINATOR};
            SELECT pg_reload_conf();
        """)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    for part in (PG, IDP):
        if part is not None:
            part.stop()
    for part in (PAM, PAM_PLAIN):
        if part is not None:
            part.remove()
    WS.remove()


def jwt(user, ttl):
    token = IDP.mint(user, scope="openid profile groups db", resource="postgres", ttl=ttl)
    TOKENS.append(token)
    return token


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def line_args(daemon, *policy):
    return ["log=stderr", f"broker={daemon.socket}", "broker_fallback=deny", "verify=jwt", f"issuer={IDP.issuer}",
            "audience=postgres", "leeway=0", f"ca_file={WS.ca}", "timeout=5", *policy]


def alive(pid):
    return PG.admin_sql(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {int(pid)}").strip() == "1"


def process_start(pid):
    """What the daemon records: /proc/PID/stat field 22 as wall time through /proc/stat's btime."""
    with open(f"/proc/{pid}/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as f:
        btime = int(next(line for line in f if line.startswith("btime ")).split()[1])
    return btime + ticks / os.sysconf("SC_CLK_TCK")


def write_conninfo(name, conninfo):
    path = WS.path(name)
    with open(path, "w") as f:
        f.write(conninfo + "\n")
    os.chown(path, 0, 0)
    os.chmod(path, 0o400)
    return path


def good_conninfo():
    return write_conninfo("conninfo", f"host=127.0.0.1 port={PG.port} dbname=postgres user={TERMINATOR} "
                                      f"password={TERMINATOR_PASSWORD}")


class SessionsDaemon:
    """pam_oauth2d for root and the cluster's service user, with metrics on a loopback port."""

    def __init__(self, extra):
        self.dir = WS.path(f"daemon-{len(os.listdir(WS.dir))}")
        os.mkdir(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "pam_oauth2d.sock")
        self.metrics_port = fixtures.free_port()
        config = os.path.join(self.dir, "pam_oauth2d.conf")
        host = urllib.parse.urlsplit(IDP.issuer).netloc
        with open(config, "w") as f:
            f.write(f"socket = {self.socket}\nuser = {fixtures.DAEMON_USER}\n"
                    f"allow_users = root, {fixtures.SERVICE_USER}\nallow_hosts = {host}\n"
                    f"metrics = 127.0.0.1:{self.metrics_port}\n{extra}\n")
        os.chmod(config, 0o644)
        self.log_path = os.path.join(self.dir, "pam_oauth2d.log")
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen([DAEMON, "--config", config], stderr=self.log_file, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("pam_oauth2d did not start: " + self.log())
            time.sleep(0.02)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as answer:
            return answer.read().decode()

    def metric(self, name):
        found = re.search(rf"^{re.escape(name)} (\d+)$", self.metrics(), re.M)
        return int(found.group(1)) if found else 0

    def stop(self):
        fixtures.stop_process(self.process)
        self.log_file.close()


class HeldSession:
    """A psql kept open and idle after one query: the backend pid it is served by."""

    def __init__(self, user, token):
        env = dict(os.environ, PGPASSWORD=token, PGCONNECT_TIMEOUT="20")
        self.process = subprocess.Popen(["psql", "-X", "-w", "-q", "-At", "-h", "127.0.0.1", "-p", str(PG.port),
                                         "-U", user, "-d", "postgres"], env=env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.process.stdin.write("SELECT pg_backend_pid();\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.process.stdin.close()
            self.process.wait(timeout=10)
            why = self.process.stderr.read()
            self.close()
            raise AssertionError(f"{user} could not open a session: {why}")
        self.pid = int(line)
        self.opened_at = time.time()

    def close(self):
        if self.process.stdout.closed:
            return
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                fixtures.stop_process(self.process)
        self.process.stdout.close()
        self.process.stderr.close()


def wait_gone(pid, until):
    """The wall time at which the backend was seen gone, or None if it lived past `until`."""
    while time.time() < until:
        if not alive(pid):
            return time.time()
        time.sleep(0.2)
    return None


class SessionCase(unittest.TestCase):
    daemon_extra = ""

    def setUp(self):
        # The audit file is opened as the daemon's user, in a directory of its own.
        audit_dir = WS.path(f"audit-{len(os.listdir(WS.dir))}")
        os.mkdir(audit_dir, 0o700)
        shutil.chown(audit_dir, fixtures.DAEMON_USER, fixtures.DAEMON_GROUP)
        self.audit_path = os.path.join(audit_dir, "audit.log")
        self.daemon = SessionsDaemon(f"session_terminate_conninfo_file = {good_conninfo()}\n"
                                     f"audit = {self.audit_path}\n" + self.daemon_extra)
        self.sessions = []

    def tearDown(self):
        for session in self.sessions:
            session.close()
        log = self.daemon.log()
        self.daemon.stop()
        for token in TOKENS:
            self.assertNotIn(token, log)
            self.assertNotIn(token.split(".")[-1], log)

    def use(self, *policy, plain=()):
        PAM.write(WS.module, line_args(self.daemon, *policy))
        PAM_PLAIN.write(WS.module, line_args(self.daemon, *plain))

    def hold(self, user, token):
        try:
            session = HeldSession(user, token)
        except AssertionError as failed:
            raise AssertionError(f"{failed}\n{self.daemon.log()}\n{PG.log_text()[-3000:]}") from None
        self.sessions.append(session)
        return session


class Policies(SessionCase):
    def test_end_at_expiry_ends_alice_within_grace_and_leaves_bob_and_carol(self):
        self.use("session_end_at_expiry", "session_grace=2")
        alice_token = jwt("alice", 20)
        exp = claims(alice_token)["exp"]
        alice = self.hold("alice", alice_token)
        bob = self.hold("bob", jwt("bob", 600))
        carol = self.hold("carol", jwt("carol", 20))  # a line without the policy
        self.assertEqual(self.daemon.metric("pam_oauth2d_sessions_tracked"), 2)
        gone = wait_gone(alice.pid, exp + 2 + 10)
        self.assertIsNotNone(gone, self.daemon.log())
        self.assertLessEqual(gone, exp + 2 + 2, self.daemon.log())
        self.assertGreaterEqual(gone, exp + 2 - 1, "ended before exp + grace")
        print(f"alice seen ended {gone - (exp + 2):+.2f} s after exp + grace", file=sys.stderr)
        time.sleep(2)
        self.assertTrue(alive(bob.pid))
        self.assertTrue(alive(carol.pid))
        self.assertIn('pam_oauth2d_sessions_ended_total{reason="expiry"} 1', self.daemon.metrics())
        self.assertEqual(self.daemon.metric("pam_oauth2d_sessions_tracked"), 1)
        self.assertIn(f"ended the session of pid={alice.pid} service={SERVICE} user=alice", self.daemon.log())

    def test_max_age_ends_alice_whatever_her_token_and_leaves_bob_and_carol(self):
        self.use("session_max_age=4")
        started = time.time()
        alice_token = jwt("alice", 600)
        alice = self.hold("alice", alice_token)
        time.sleep(2)
        bob = self.hold("bob", jwt("bob", 600))
        carol = self.hold("carol", jwt("carol", 600))
        gone = wait_gone(alice.pid, started + 4 + 10)
        self.assertIsNotNone(gone, self.daemon.log())
        self.assertLessEqual(gone, alice.opened_at + 4 + 2, self.daemon.log())
        print(f"alice seen ended {gone - (alice.opened_at + 4):+.2f} s after login + max age", file=sys.stderr)
        self.assertTrue(alive(bob.pid))
        self.assertTrue(alive(carol.pid))
        self.assertIn('pam_oauth2d_sessions_ended_total{reason="max_age"} 1', self.daemon.metrics())
        # The daemon's audit trail has the ended session as one JSON line, field by field.
        with open(self.audit_path) as f:
            events = [json.loads(line) for line in f if line.strip()]
        ended = [event for event in events if event["event"] == "session_ended"]
        self.assertEqual(len(ended), 1, events)
        event = ended[0]
        self.assertEqual((event["service"], event["user"], event["result"], event["reason"], event["peer_pid"]),
                         (SERVICE, "alice", "ended", "max_age", alice.pid))
        self.assertEqual((event["iss"], event["sub"]), (IDP.issuer, claims(alice_token)["sub"]))
        self.assertLessEqual(abs(event["epoch"] - gone), 3)
        for token in TOKENS:
            self.assertNotIn(token.split(".")[-1], json.dumps(events))

    def test_without_session_options_nothing_is_tracked(self):
        self.use()
        alice = self.hold("alice", jwt("alice", 600))
        self.assertEqual(self.daemon.metric("pam_oauth2d_sessions_tracked"), 0)
        self.assertNotIn("session tracked", self.daemon.log())
        self.assertTrue(alive(alice.pid))


    def test_in_process_logins_ignore_the_options_with_one_notice(self):
        in_process = [arg for arg in line_args(self.daemon, "session_max_age=1") if not arg.startswith("broker")]
        PAM.write(WS.module, [*in_process, f"cache_dir={WS.cache_dir}"])
        offset = len(PG.log_text())
        alice = self.hold("alice", jwt("alice", 600))
        time.sleep(3)
        self.assertTrue(alive(alice.pid))
        log = PG.log_text()[offset:]
        self.assertEqual(log.count("session_* options apply only to logins through pam_oauth2d"), 1, log)
        self.assertEqual(self.daemon.metric("pam_oauth2d_sessions_tracked"), 0)


class DaemonDefaults(SessionCase):
    daemon_extra = "session_max_age = 3\n"

    def test_the_daemon_default_applies_to_lines_that_do_not_say_and_a_line_overrides_it(self):
        self.use(plain=("session_max_age=0",))
        alice = self.hold("alice", jwt("alice", 600))
        carol = self.hold("carol", jwt("carol", 600))
        gone = wait_gone(alice.pid, alice.opened_at + 3 + 10)
        self.assertIsNotNone(gone, self.daemon.log())
        self.assertLessEqual(gone, alice.opened_at + 3 + 2)
        self.assertTrue(alive(carol.pid))


class PidReuse(SessionCase):
    def statement(self):
        """The daemon's statement, as its source spells it."""
        with open(SOURCE) as f:
            text = f.read()
        literal = text.split("terminate_statement =", 1)[1].split(";", 1)[0]
        return "".join(re.findall(r'"([^"]*)"', literal))

    def as_terminator(self, sql):
        env = dict(os.environ, PGPASSWORD=TERMINATOR_PASSWORD)
        done = subprocess.run(["psql", "-X", "-w", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(PG.port),
                               "-U", TERMINATOR, "-d", "postgres", "-Atc", sql], env=env, capture_output=True,
                              text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout.strip()

    def test_the_statement_refuses_a_backend_whose_start_or_user_does_not_match(self):
        self.use()
        alice = self.hold("alice", jwt("alice", 600))
        start = process_start(alice.pid)
        prepare = f"PREPARE t(integer, text, float8) AS {self.statement()};"
        self.assertEqual(self.as_terminator(f"{prepare} EXECUTE t({alice.pid}, 'alice', {start - 100});"), "")
        self.assertEqual(self.as_terminator(f"{prepare} EXECUTE t({alice.pid}, 'alice', {start + 5});"), "")
        self.assertEqual(self.as_terminator(f"{prepare} EXECUTE t({alice.pid}, 'bob', {start});"), "")
        self.assertTrue(alive(alice.pid))
        # Without pg_read_all_stats the role sees no other user's backend_start: nothing matches.
        PG.admin_sql(f"REVOKE pg_read_all_stats FROM {TERMINATOR}")
        try:
            self.assertEqual(self.as_terminator(f"{prepare} EXECUTE t({alice.pid}, 'alice', {start});"), "")
        finally:
            PG.admin_sql(f"GRANT pg_read_all_stats TO {TERMINATOR}")
        self.assertTrue(alive(alice.pid))
        # The same statement with the true start and user ends it: the role's rights suffice.
        self.assertEqual(self.as_terminator(f"{prepare} EXECUTE t({alice.pid}, 'alice', {start});"), "t")
        self.assertIsNotNone(wait_gone(alice.pid, time.time() + 5))


class Failures(SessionCase):
    def test_a_role_without_pg_signal_backend_is_logged_once_counted_and_logins_go_on(self):
        PG.admin_sql(f"REVOKE pg_signal_backend FROM {TERMINATOR}")
        try:
            self.use("session_max_age=1")
            alice = self.hold("alice", jwt("alice", 600))
            time.sleep(5)
            self.assertTrue(alive(alice.pid))
            log = self.daemon.log()
            self.assertEqual(log.count("cannot end sessions:"), 1, log)
            self.assertIn(f"cannot end sessions: pg_terminate_backend as {TERMINATOR}: ERROR:", log)
            self.assertGreaterEqual(self.daemon.metric("pam_oauth2d_session_termination_failures_total"), 2)
            started = time.monotonic()
            code, out, err, _ = fixtures.psql(PG.port, "bob", jwt("bob", 600), "select current_user")
            self.assertEqual((code, out), (0, "bob"), err)
            self.assertLess(time.monotonic() - started, 3)
        finally:
            PG.admin_sql(f"GRANT pg_signal_backend TO {TERMINATOR}")
        # The right back, the next attempt (within the pause, at most a few seconds here) ends it.
        self.assertIsNotNone(wait_gone(alice.pid, time.time() + 20), self.daemon.log())
        self.assertIn("ending sessions works again", self.daemon.log())

    def test_postgresql_unreachable_is_logged_once_counted_and_logins_go_on(self):
        self.daemon.stop()
        nowhere = write_conninfo("conninfo-nowhere", f"host=127.0.0.1 port={fixtures.free_port()} dbname=postgres "
                                                     f"user={TERMINATOR} password={TERMINATOR_PASSWORD}")
        self.daemon = SessionsDaemon(f"session_terminate_conninfo_file = {nowhere}\n")
        self.use("session_max_age=1")
        alice = self.hold("alice", jwt("alice", 600))
        time.sleep(5)
        self.assertTrue(alive(alice.pid))
        log = self.daemon.log()
        self.assertEqual(log.count("cannot end sessions: cannot connect to PostgreSQL"), 1, log)
        self.assertNotIn(TERMINATOR_PASSWORD, log)
        self.assertGreaterEqual(self.daemon.metric("pam_oauth2d_session_termination_failures_total"), 2)
        started = time.monotonic()
        code, out, err, _ = fixtures.psql(PG.port, "bob", jwt("bob", 600), "select current_user")
        self.assertEqual((code, out), (0, "bob"), err)
        self.assertLess(time.monotonic() - started, 3)



class Rechecks(SessionCase):
    """session_recheck on an introspect line: an opaque token revoked at the provider (RFC 7009) ends
    its session within the interval and its cached verdict is dropped; a provider that cannot answer
    keeps the session, counted."""

    RECHECK = 5  # the shortest interval session_recheck accepts

    def setUp(self):
        # The daemon reads the introspection client's secret from a conf= file bound to the peer.
        self.daemon_extra = f"conf_dirs = {WS.dir}\nconf_users = {WS.dir}/ root, {fixtures.SERVICE_USER}\n"
        super().setUp()
        self.conf = WS.write_conf("recheck.conf", f"introspection_url = {IDP.introspection_url}\n"
                                  f"issuer = {IDP.issuer}\nclient_id = pg-introspect\n"
                                  "client_secret = pg-introspect-secret\n", group=fixtures.DAEMON_GROUP)

    def introspect_args(self, *policy):
        # cache_ttl=60: without the drop, a new login with a revoked token would be granted from it.
        return ["log=stderr", f"broker={self.daemon.socket}", "broker_fallback=deny", "verify=introspect",
                f"conf={self.conf}", "allow_any_audience", "require_claim=client_id:psql", f"ca_file={WS.ca}",
                "timeout=2", "cache_ttl=60", *policy]

    def opaque(self, user):
        token = IDP.mint(user, scope="openid profile groups db")
        self.assertEqual(token.count("."), 0, "expected an opaque token")
        TOKENS.append(token)
        return token

    def test_a_revoked_token_ends_its_session_within_the_interval_and_only_it(self):
        PAM.write(WS.module, self.introspect_args(f"session_recheck={self.RECHECK}"))
        PAM_PLAIN.write(WS.module, self.introspect_args())  # carol's line: no re-checks
        alice_token, carol_token = self.opaque("alice"), self.opaque("carol")
        alice = self.hold("alice", alice_token)
        bob_token = self.opaque("bob")
        bob = self.hold("bob", bob_token)
        carol = self.hold("carol", carol_token)
        self.assertEqual(self.daemon.metric("pam_oauth2d_sessions_tracked"), 2)
        self.assertIn("recheck=5)", self.daemon.log())
        revoked_at = time.time()
        IDP.revoke(alice_token)
        IDP.revoke(carol_token)  # her line does not ask again: her session stays
        gone = wait_gone(alice.pid, revoked_at + self.RECHECK + 10)
        self.assertIsNotNone(gone, self.daemon.log())
        self.assertLessEqual(gone, revoked_at + self.RECHECK + 3, self.daemon.log())
        print(f"alice seen ended {gone - revoked_at:.2f} s after the revocation", file=sys.stderr)
        time.sleep(1)
        self.assertTrue(alive(bob.pid))
        self.assertTrue(alive(carol.pid))
        metrics = self.daemon.metrics()
        self.assertIn('pam_oauth2d_sessions_ended_total{reason="revoked"} 1', metrics)
        self.assertGreaterEqual(self.daemon.metric("pam_oauth2d_sessions_rechecked_total"), 2)
        self.assertEqual(self.daemon.metric("pam_oauth2d_sessions_tracked"), 1)
        log = self.daemon.log()
        self.assertIn(f"the provider refused the token of the session of pid={alice.pid} service={SERVICE} "
                      "user=alice", log)
        self.assertIn(f"ended the session of pid={alice.pid} service={SERVICE} user=alice", log)
        with open(self.audit_path) as f:
            events = [json.loads(line) for line in f if line.strip()]
        ended = [event for event in events if event["event"] == "session_ended"]
        self.assertEqual([(e["user"], e["reason"], e["peer_pid"]) for e in ended], [("alice", "revoked", alice.pid)])
        # The verdict her login cached (cache_ttl=60) was dropped: the same token is asked about and refused.
        code, out, err, _ = fixtures.psql(PG.port, "alice", alice_token, "select current_user")
        self.assertNotEqual(code, 0, out)
        self.assertNotIn("verdict from cache", self.daemon.log()[len(log):])
        # Bob's verdict is still in the cache and still answers.
        code, out, err, _ = fixtures.psql(PG.port, "bob", bob_token, "select current_user")
        self.assertEqual((code, out), (0, "bob"), err)

    def test_a_provider_that_cannot_answer_keeps_the_session_counted_and_logged_once(self):
        PAM.write(WS.module, self.introspect_args(f"session_recheck={self.RECHECK}"))
        alice = self.hold("alice", self.opaque("alice"))
        IDP.pause()
        try:
            deadline = time.time() + 4 * self.RECHECK + 10
            while self.daemon.metric("pam_oauth2d_recheck_unavailable_total") < 3 and time.time() < deadline:
                time.sleep(0.5)
            unavailable = self.daemon.metric("pam_oauth2d_recheck_unavailable_total")
            self.assertGreaterEqual(unavailable, 3, self.daemon.log())
            self.assertTrue(alive(alice.pid))
            self.assertEqual(self.daemon.metric("pam_oauth2d_sessions_tracked"), 1)
            lines = self.daemon.log().count("cannot re-check the tokens of tracked sessions:")
            self.assertEqual(lines, 1, self.daemon.log())  # per change of state, not per re-check
        finally:
            IDP.resume()
        deadline = time.time() + 2 * self.RECHECK + 5
        while "works again" not in self.daemon.log() and time.time() < deadline:
            time.sleep(0.5)
        self.assertIn("re-checking the tokens of tracked sessions works again", self.daemon.log())
        self.assertTrue(alive(alice.pid))
        self.assertNotIn("reason=revoked", self.daemon.log())

    def test_jwt_logins_are_not_rechecked_and_a_jwt_only_line_may_not_ask(self):
        self.daemon.stop()
        self.daemon = SessionsDaemon(f"session_terminate_conninfo_file = {good_conninfo()}\nsession_recheck = 5\n")
        PAM.write(WS.module, line_args(self.daemon))  # verify=jwt: the daemon's default does not apply
        alice = self.hold("alice", jwt("alice", 600))
        self.assertEqual(self.daemon.metric("pam_oauth2d_sessions_tracked"), 0)
        PAM.write(WS.module, line_args(self.daemon, "session_recheck=5"))
        code, out, err, _ = fixtures.psql(PG.port, "bob", jwt("bob", 600), "select current_user")
        self.assertNotEqual(code, 0, out)
        self.assertIn("option session_recheck needs verify=userinfo or verify=introspect", self.daemon.log())
        time.sleep(self.RECHECK + 1)
        self.assertTrue(alive(alice.pid))
        self.assertEqual(self.daemon.metric("pam_oauth2d_sessions_rechecked_total"), 0)

if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("these tests need root: they write /etc/pam.d/<service> and run PostgreSQL as postgres")
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--daemon", required=True)
    options, rest = parser.parse_known_args()
    MODULE, DAEMON = os.path.abspath(options.module), os.path.abspath(options.daemon)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
