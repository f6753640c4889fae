#!/usr/bin/env python3
"""A fleet's shared cache failing in the ways a Redis fails, through pam_oauth2d and the module
(pam_driver through libpam), against the scripted loopback identity provider and real redis-server
processes on free loopback ports, stopped by their pids: the ACL docs/fleet.md gives an
administrator, a wrong password, a Redis that answers slowly, and a Sentinel failover.

    test_fleet.py --module build/pam_oauth2/pam_oauth2.so --driver build/tests/pam_driver \
                  --daemon build/pam_oauth2/daemon/pam_oauth2d
"""

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import pam_harness  # noqa: E402
import redis_server  # noqa: E402

MODULE = DRIVER = DAEMON = None
SANITIZED = os.environ.get("PAM_OAUTH2_TEST_SANITIZED") == "1"
SLACK_SECONDS = 12 if SANITIZED else 3
BUDGET_MS = 150
FLEET_DOC = os.path.join(HERE, "..", "..", "docs", "fleet.md")


def setUpModule():
    global WORKDIR, IDP
    WORKDIR = tempfile.mkdtemp(prefix="pam_oauth2_fleet_")
    os.chmod(WORKDIR, 0o755)
    IDP = pam_harness.Server()
    pam_harness.DEFAULT_ALLOW_HOSTS = f"127.0.0.1:{IDP.port}"


def tearDownModule():
    IDP.stop()
    shutil.rmtree(WORKDIR)


def tok(kind):
    return f"{kind}~{secrets.token_hex(8)}"


def requests():
    with urllib.request.urlopen(f"http://127.0.0.1:{IDP.port}/stats", timeout=5) as answer:
        return json.load(answer)["requests"]


def secret_file(text):
    path = os.path.join(WORKDIR, f"secret-{secrets.token_hex(4)}")
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)
    return path


FLEET_KEY = None


def fleet_key():
    global FLEET_KEY
    FLEET_KEY = FLEET_KEY or secret_file(secrets.token_urlsafe(48))
    return FLEET_KEY


def documented_acl():
    """The `ACL SETUSER` line of docs/fleet.md, split into words: the test uses exactly it."""
    with open(FLEET_DOC) as f:
        lines = [line.strip() for line in f if line.strip().startswith("ACL SETUSER ")]
    if len(lines) != 1:
        raise AssertionError(f"docs/fleet.md must hold one ACL SETUSER line, found {len(lines)}")
    return lines[0].split()


class SlowProxy:
    """A loopback TCP proxy in front of a Redis: what the client sends goes on at once, each chunk of
    the answer is held `delay` seconds first (a slow or overloaded Redis, a slow network)."""

    def __init__(self, port, delay):
        self.target, self.delay = port, delay
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, 0), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, self.delay), daemon=True).start()

    @staticmethod
    def _pump(source, sink, delay):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                time.sleep(delay)
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.listener.close()
        for one in self.sockets:
            one.close()


class FleetCase(unittest.TestCase):
    def setUp(self):
        self.daemons = []
        self.servers = []

    def tearDown(self):
        for daemon in self.daemons:
            daemon.stop()
        for server in self.servers:
            server.stop()

    def host(self, url, password=None, prefix="po2:"):
        extra = (f"shared_cache = {url}\nshared_cache_key_file = {fleet_key()}\nshared_cache_prefix = {prefix}\n"
                 f"shared_cache_budget_ms = {BUDGET_MS}\n")
        if password:
            extra += f"shared_cache_password_file = {secret_file(password)}\n"
        daemon = pam_harness.Daemon(DAEMON, extra=extra)
        self.daemons.append(daemon)
        return daemon

    def login(self, daemon, token):
        """One login through the module; (granted, log, seconds)."""
        service = pam_harness.PamService(MODULE, ["log=stderr", f"broker={daemon.socket}", "broker_fallback=deny",
                                                  f"userinfo_url=http://127.0.0.1:{IDP.port}/userinfo", "allow_http",
                                                  "cache_ttl=600"])
        try:
            auth, acct, log, seconds = pam_harness.run_driver(DRIVER, service, "alice", token)
        finally:
            service.remove()
        return auth == "PAM_SUCCESS" and acct == "PAM_SUCCESS", log, seconds

    def assert_shared(self, writer, reader, message):
        """A token granted by `writer` is granted by `reader` with no provider request."""
        token = tok("user-alice")
        granted, log, _ = self.login(writer, token)
        self.assertTrue(granted, log)
        before = requests()
        granted, log, _ = self.login(reader, token)
        self.assertTrue(granted, log)
        self.assertEqual(requests() - before, 0, message)


class DocumentedAcl(FleetCase):
    def test_the_acl_of_the_docs_is_enough_and_nothing_else_is_tried(self):
        redis = redis_server.RedisServer(WORKDIR, f"acl-{secrets.token_hex(4)}", admin=True)
        self.servers.append(redis)
        password = secrets.token_urlsafe(24)
        words = documented_acl()
        user = words[2]
        prefixes = [w[1:-1] for w in words if w.startswith("~") and w.endswith("*")]
        self.assertEqual(len(prefixes), 1, words)

        def admin(*command):
            done = subprocess.run(["redis-cli", "-p", str(redis.port), "--user", "admin", "--pass",
                                   redis_server.PASSWORD, "--no-auth-warning", *command],
                                  capture_output=True, text=True, timeout=10)
            return done.stdout.strip()

        self.assertEqual(admin(*[w.replace(">PASSWORD", ">" + password) for w in words]), "OK")
        self.assertEqual(admin("ACL", "LOG", "RESET"), "OK")
        # Database 1: SELECT is sent too.
        url = f"redis://{user}@127.0.0.1:{redis.port}/1"
        first, second = self.host(url, password, prefixes[0]), self.host(url, password, prefixes[0])
        self.assert_shared(first, second, "not shared under the documented ACL")
        self.assert_shared(second, first, "not shared under the documented ACL")
        # Nothing the ACL refuses was tried, and every entry is under the prefix.
        self.assertEqual(admin("ACL", "LOG"), "", "a command or key outside the documented ACL was tried")
        keys = admin("-n", "1", "--scan").split()
        self.assertTrue(keys)
        self.assertTrue(all(key.startswith(prefixes[0]) for key in keys), keys)


class WrongPassword(FleetCase):
    def test_every_login_goes_to_the_provider_and_the_breaker_logs_once(self):
        redis = redis_server.RedisServer(WORKDIR, f"password-{secrets.token_hex(4)}")
        self.servers.append(redis)
        url = f"redis://cache@127.0.0.1:{redis.port}/0"
        good = self.host(url, redis_server.PASSWORD)
        wrong_password = "not-the-password-" + secrets.token_hex(6)
        wrong = self.host(url, wrong_password)
        # Granted by the provider once and kept in Redis by the good host; the provider refuses it
        # from now on ("once"): a grant on the wrong host could only come from the shared entry.
        once = tok("once")
        granted, log, _ = self.login(good, once)
        self.assertTrue(granted, log)
        before = requests()
        granted, log, seconds = self.login(wrong, once)
        self.assertFalse(granted, "granted from a cache whose password was refused: " + log)
        self.assertLess(seconds, BUDGET_MS / 1000 * 2 + SLACK_SECONDS)
        tokens = [tok("user-alice") for _ in range(6)]
        for token in tokens:
            granted, log, seconds = self.login(wrong, token)
            self.assertTrue(granted, log)
            self.assertLess(seconds, BUDGET_MS / 1000 * 2 + SLACK_SECONDS)
        self.assertEqual(requests() - before, 1 + len(tokens), "a login was not decided by the provider")
        text = wrong.log()
        shared_lines = [line for line in text.splitlines() if "shared cache" in line and "ready:" not in line]
        # One line per change of state (the breaker opening), not one per login.
        self.assertEqual(len(shared_lines), 1, text)
        self.assertRegex(shared_lines[0], r"shared cache 127\.0\.0\.1:\d+: breaker open")
        self.assertNotIn(wrong_password, text)
        self.assertNotIn(redis_server.PASSWORD, text + good.log())


class SlowRedis(FleetCase):
    def test_an_answer_within_the_budget_is_used_and_a_later_one_is_not_waited_for(self):
        redis = redis_server.RedisServer(WORKDIR, f"slow-{secrets.token_hex(4)}")
        self.servers.append(redis)
        writer = self.host(f"redis://cache@127.0.0.1:{redis.port}/0", redis_server.PASSWORD)
        slow = SlowProxy(redis.port, 0.04)
        late = SlowProxy(redis.port, 0.5)
        try:
            # 40 ms a reply: within the budget, the entry is used.
            reader = self.host(f"redis://cache@127.0.0.1:{slow.port}/0", redis_server.PASSWORD)
            token = tok("user-alice")
            self.assertTrue(self.login(writer, token)[0])
            before = requests()
            granted, log, seconds = self.login(reader, token)
            self.assertTrue(granted, log)
            self.assertEqual(requests() - before, 0, "an answer within the budget was not used")
            self.assertLess(seconds, BUDGET_MS / 1000 + SLACK_SECONDS)
            # 500 ms a reply: past the budget, the provider decides; a login waits at most a budget
            # for the lookup and one for the write.
            reader = self.host(f"redis://cache@127.0.0.1:{late.port}/0", redis_server.PASSWORD)
            once = tok("once")
            self.assertTrue(self.login(writer, once)[0])
            before = requests()
            granted, log, seconds = self.login(reader, once)
            self.assertFalse(granted, "granted from an answer that came after the budget: " + log)
            self.assertLess(seconds, BUDGET_MS / 1000 * 2 + SLACK_SECONDS)
            times = []
            for token in [tok("user-alice") for _ in range(5)]:
                granted, log, seconds = self.login(reader, token)
                self.assertTrue(granted, log)
                times.append(seconds)
            self.assertEqual(requests() - before, 6)
            self.assertLess(max(times), BUDGET_MS / 1000 * 2 + SLACK_SECONDS, times)
            print("\nlogins with Redis answering in 500 ms (budget 150 ms): " +
                  ", ".join(f"{t * 1000:.0f}" for t in times) + " ms", file=sys.stderr)
            self.assertRegex(reader.log(), r"shared cache 127\.0\.0\.1:\d+: breaker open")
        finally:
            slow.close()
            late.close()


class SentinelFailover(FleetCase):
    def test_logins_go_on_through_a_failover_and_sharing_comes_back_on_the_new_primary(self):
        primary, replica, sentinels = redis_server.start_sentinel_group(WORKDIR, f"failover-{secrets.token_hex(4)}")
        self.servers += [*sentinels, replica, primary]
        url = "redis+sentinel://" + ",".join(f"127.0.0.1:{s.port}" for s in sentinels) + "/mymaster/0"
        first, second = self.host(url), self.host(url)
        self.assert_shared(first, second, "not shared through the Sentinels' primary")
        primary.stop()
        # Logins go on while the Sentinels notice and promote the replica; then entries are shared
        # again, on the promoted replica.
        deadline = time.monotonic() + 60
        logins = 0
        while True:
            token = tok("user-alice")
            granted, log, seconds = self.login(first, token)
            self.assertTrue(granted, log)
            self.assertLess(seconds, BUDGET_MS / 1000 * 2 + SLACK_SECONDS, log)
            before = requests()
            granted, log, seconds = self.login(second, token)
            self.assertTrue(granted, log)
            self.assertLess(seconds, BUDGET_MS / 1000 * 2 + SLACK_SECONDS, log)
            logins += 2
            if requests() == before and b"role:master" in replica.command(b"INFO replication"):
                break
            self.assertLess(time.monotonic(), deadline, "sharing did not come back after the failover: " +
                            second.log()[-2000:] + "".join(s.log()[-800:] for s in sentinels))
            time.sleep(0.2)
        print(f"\nfailover: {logins} logins granted until sharing came back on the promoted replica",
              file=sys.stderr)
        self.assertIn(b"role:master", replica.command(b"INFO replication"))
        self.assertTrue(int(re.search(rb"db0:keys=(\d+)", replica.command(b"INFO keyspace")).group(1)) > 0)
        self.assert_shared(second, first, "not shared on the promoted replica")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--driver", required=True)
    parser.add_argument("--daemon", required=True)
    options, rest = parser.parse_known_args()
    MODULE, DRIVER, DAEMON = (os.path.abspath(p) for p in (options.module, options.driver, options.daemon))
    unittest.main(argv=[sys.argv[0], "-v", *rest])
