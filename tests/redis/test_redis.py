#!/usr/bin/env python3
"""The shared cache's Redis connection (redis_probe) against real redis-server processes on loopback,
started here on free ports in a temporary directory and stopped by their pid: plain and TLS, an ACL
user allowed only the commands the cache uses on its prefix, and every way a server can fail a
login's time budget (refused certificates, a wrong password, a silent peer, a stopped server).

    test_redis.py --probe build/tests/redis_probe [--redis-server /usr/bin/redis-server]
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import redis_server  # noqa: E402
import test_ca  # noqa: E402
from redis_server import RedisServer, free_port, issue_cert  # noqa: E402,F401

PROBE = REDIS_SERVER = None
PASSWORD = "correct-horse-battery-staple-7f3a"
redis_server.PASSWORD = PASSWORD
BUDGET_MS = 150
# What a process start and the poll granularity may add to the budget on a loaded 2-core machine.
MARGIN_MS = 60


def probe(url, *commands, password=True, budget_ms=BUDGET_MS, ca=None, cert=None, key=None):
    """Runs redis_probe; returns (exit code, stdout lines, elapsed_ms as the probe measured it)."""
    args = [PROBE, "--url", url, "--budget-ms", str(budget_ms)]
    if password:
        args += ["--password-file", PASSWORD_FILE]
    for flag, value in (("--ca", ca), ("--cert", cert), ("--key", key)):
        if value:
            args += [flag, value]
    done = subprocess.run(args + list(commands), capture_output=True, text=True, timeout=30)
    elapsed = [float(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("elapsed_ms ")]
    return done.returncode, done.stdout.splitlines(), (elapsed[0] if elapsed else None), done.stdout + done.stderr


def setUpModule():
    global WORKDIR, CA, OTHER_CA, PASSWORD_FILE, PLAIN, WRONG_NAME, CLIENT_CERT, CLIENT_KEY
    WORKDIR = tempfile.mkdtemp(prefix="pam_oauth2_redis_")
    PASSWORD_FILE = os.path.join(WORKDIR, "password")
    with open(PASSWORD_FILE, "w") as f:
        f.write(PASSWORD + "\n")
    CA = test_ca.make_ca(os.path.join(WORKDIR, "ca"))
    OTHER_CA = test_ca.make_ca(os.path.join(WORKDIR, "other_ca"), name="another test CA")
    cert, key = test_ca.make_server_cert(os.path.join(WORKDIR, "ca"), CA)
    CLIENT_CERT, CLIENT_KEY = issue_cert(os.path.join(WORKDIR, "ca"), CA, "client", "DNS:client.test", "clientAuth")
    elsewhere = issue_cert(os.path.join(WORKDIR, "ca"), CA, "elsewhere", "DNS:elsewhere.test", "serverAuth")
    PLAIN = RedisServer(WORKDIR, "main", tls=(cert, key, CA), client_certs=True)
    WRONG_NAME = RedisServer(WORKDIR, "wrong_name", tls=(*elsewhere, CA))


def tearDownModule():
    for server in (PLAIN, WRONG_NAME):
        server.stop()
    shutil.rmtree(WORKDIR)


def plain_url(db=0):
    return f"redis://cache@127.0.0.1:{PLAIN.port}/{db}"


def tls_url(host="127.0.0.1", server=None):
    return f"rediss://cache@{host}:{(server or PLAIN).tls_port}/0"


class Plain(unittest.TestCase):
    def test_set_with_expiry_then_get(self):
        code, lines, _, text = probe(plain_url(1), "SET po2:a value-1 EX 30", "GET po2:a", "GET po2:missing",
                                     "DEL po2:a", "GET po2:a")
        self.assertEqual(code, 0, text)
        self.assertEqual(lines, ["status OK", "string value-1", "nil", "integer 1", "nil"])

    def test_the_acl_allows_only_the_prefix_and_the_commands_used(self):
        code, lines, _, text = probe(plain_url(), "SET other:a 1", "FLUSHALL", "PING")
        self.assertEqual(code, 0, text)
        self.assertTrue(lines[0].startswith("error NOPERM"), text)
        self.assertTrue(lines[1].startswith("error NOPERM"), text)
        self.assertEqual(lines[2], "status PONG")

    def test_a_wrong_password_is_a_clear_error_that_never_shows_a_password(self):
        wrong = os.path.join(WORKDIR, "wrong_password")
        with open(wrong, "w") as f:
            f.write("not-the-password-4411\n")
        args = [PROBE, "--url", plain_url(), "--password-file", wrong, "PING"]
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 2, done.stdout)
        self.assertIn("AUTH as 'cache' refused: WRONGPASS", done.stdout)
        self.assertNotIn("not-the-password-4411", done.stdout + done.stderr)
        self.assertNotIn(PASSWORD, done.stdout + done.stderr)

    def test_no_password_for_a_user_that_needs_one(self):
        code, lines, _, text = probe(plain_url(), "PING", password=False)
        self.assertEqual(code, 0, text)
        self.assertTrue(lines[0].startswith("error NOAUTH"), text)

    def test_a_refused_select_is_a_failure(self):
        code, lines, _, text = probe(f"redis://cache@127.0.0.1:{PLAIN.port}/15", "PING")
        self.assertEqual(code, 0, text)  # SELECT is allowed, database 15 exists
        code, lines, _, text = probe(f"redis://127.0.0.1:{PLAIN.port}/1", "PING", password=False)
        self.assertEqual(code, 2, text)
        self.assertIn("SELECT 1 refused: NOAUTH", text)


class Tls(unittest.TestCase):
    def test_the_right_ca_and_a_client_certificate(self):
        for host in ("127.0.0.1", "localhost"):  # an IP address, and a name (SNI, host name check)
            code, lines, _, text = probe(tls_url(host), "SET po2:t 1 EX 5", "GET po2:t", ca=CA,
                                         cert=CLIENT_CERT, key=CLIENT_KEY)
            self.assertEqual(code, 0, text)
            self.assertEqual(lines, ["status OK", "string 1"])

    def test_a_server_that_wants_a_client_certificate_refuses_none(self):
        code, _, _, text = probe(tls_url(), "PING", ca=CA)
        self.assertEqual(code, 2, text)
        self.assertIn("failure:", text)

    def test_an_untrusted_ca_is_refused(self):
        code, _, _, text = probe(tls_url(), "PING", ca=OTHER_CA, cert=CLIENT_CERT, key=CLIENT_KEY)
        self.assertEqual(code, 2, text)
        self.assertIn("the server's certificate is refused", text)
        self.assertRegex(text, "self-signed certificate in certificate chain|unable to get local issuer")

    def test_a_certificate_for_another_host_is_refused(self):
        for host in ("127.0.0.1", "localhost"):
            code, _, _, text = probe(tls_url(host, WRONG_NAME), "PING", ca=CA)
            self.assertEqual(code, 2, text)
            self.assertIn("the server's certificate is refused", text)
            self.assertIn("mismatch", text)

    def test_tls_to_a_plain_port_fails_within_the_budget(self):
        code, _, elapsed, text = probe(f"rediss://cache@127.0.0.1:{PLAIN.port}/0", "PING", ca=CA)
        self.assertEqual(code, 2, text)
        self.assertLess(elapsed, BUDGET_MS + MARGIN_MS, text)


class Budget(unittest.TestCase):
    def assert_bounded(self, url, **kwargs):
        started = time.monotonic()
        code, _, elapsed, text = probe(url, "GET po2:x", **kwargs)
        wall_ms = (time.monotonic() - started) * 1000
        self.assertEqual(code, 2, text)
        self.assertIn("within the time budget", text)
        self.assertGreaterEqual(elapsed, BUDGET_MS - 1, text)
        self.assertLess(elapsed, BUDGET_MS + MARGIN_MS, text)
        self.assertLess(wall_ms, 2000, text)

    def test_a_server_that_accepts_and_never_answers(self):
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)  # the kernel completes the connection; nobody reads or writes
            port = silent.getsockname()[1]
            self.assert_bounded(f"redis://cache@127.0.0.1:{port}/0")
            self.assert_bounded(f"rediss://cache@127.0.0.1:{port}/0", ca=CA)

    def test_a_stopped_redis(self):
        os.kill(PLAIN.process.pid, signal.SIGSTOP)
        try:
            self.assert_bounded(plain_url())
            self.assert_bounded(tls_url(), ca=CA, cert=CLIENT_CERT, key=CLIENT_KEY)
        finally:
            os.kill(PLAIN.process.pid, signal.SIGCONT)
        code, lines, _, text = probe(plain_url(), "PING")
        self.assertEqual((code, lines), (0, ["status PONG"]), text)

    def test_nothing_listening_fails_at_once(self):
        code, _, elapsed, text = probe(f"redis://cache@127.0.0.1:{free_port()}/0", "PING")
        self.assertEqual(code, 2, text)
        self.assertIn("connect: Connection refused", text)
        self.assertLess(elapsed, BUDGET_MS, text)


class FakeSentinel:
    """A loopback socket that answers every request with `answer` (bytes), for Sentinels that lie."""

    def __init__(self, answer):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.answer = answer
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                peer, _ = self.listener.accept()
            except OSError:
                return
            with peer:
                peer.settimeout(2)
                try:
                    if peer.recv(4096):
                        peer.sendall(self.answer)
                        peer.recv(4096)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


class SentinelDiscovery(unittest.TestCase):
    """A primary, a replica and three Sentinels: the primary found through them, then after it dies."""

    @classmethod
    def setUpClass(cls):
        cls.primary, cls.replica, cls.sentinels = redis_server.start_sentinel_group(WORKDIR, "sentinel")

    @classmethod
    def tearDownClass(cls):
        for server in (*cls.sentinels, cls.replica, cls.primary):
            server.stop()

    def url(self, *ports, master="mymaster"):
        return "redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in ports) + f"/{master}/0"

    def sentinel_ports(self):
        return [s.port for s in self.sentinels]

    def test_1_the_primary_through_three_sentinels(self):
        code, lines, _, text = probe(self.url(*self.sentinel_ports()), "SET po2:s before-failover", "GET po2:s",
                                     "WAIT 1 2000", password=False, budget_ms=3000)
        self.assertEqual(code, 0, text)
        self.assertEqual(lines, ["status OK", "string before-failover", "integer 1"], text)

    def test_2_a_dead_and_a_hung_sentinel_are_passed_over_within_the_budget(self):
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            dead = free_port()
            code, lines, elapsed, text = probe(self.url(dead, silent.getsockname()[1], *self.sentinel_ports()),
                                               "GET po2:s", password=False, budget_ms=400)
        self.assertEqual(code, 0, text)
        self.assertEqual(lines, ["string before-failover"], text)
        self.assertLess(elapsed, 400 + MARGIN_MS, text)

    def test_3_an_unknown_master_name(self):
        code, _, _, text = probe(self.url(*self.sentinel_ports(), master="nosuchmaster"), "PING", password=False,
                                 budget_ms=1000)
        self.assertEqual(code, 2, text)
        self.assertIn("does not know master 'nosuchmaster'", text)

    def test_4_a_sentinel_naming_a_replica_or_answering_garbage_is_not_believed(self):
        port = str(self.replica.port).encode()
        liar = FakeSentinel(b"*2\r\n$9\r\n127.0.0.1\r\n$" + str(len(port)).encode() + b"\r\n" + port + b"\r\n")
        garbage = FakeSentinel(b"*2\r\n$9\r\nnot an ip\r\n$2\r\nxx\r\n")
        try:
            code, _, _, text = probe(self.url(liar.port), "SET po2:s x", password=False, budget_ms=1000)
            self.assertEqual(code, 2, text)
            self.assertIn("is not a primary (ROLE: slave)", text)
            code, _, _, text = probe(self.url(garbage.port), "PING", password=False, budget_ms=1000)
            self.assertEqual(code, 2, text)
            self.assertIn("not an address", text)
        finally:
            liar.close()
            garbage.close()

    def test_5_after_the_primary_dies_the_new_primary_is_found(self):
        self.primary.stop()
        deadline = time.monotonic() + 40
        while True:
            code, lines, _, text = probe(self.url(*self.sentinel_ports()), "SET po2:after 1", "GET po2:s",
                                         password=False, budget_ms=1000)
            if code == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(code, 0, text + "".join(s.log()[-1500:] for s in self.sentinels))
        self.assertEqual(lines, ["status OK", "string before-failover"], text)


class Pool(unittest.TestCase):
    """A RedisPool over the plain server: connections reused; the breaker opens and closes again."""

    def test_one_connection_serves_many_rounds(self):
        code, lines, _, text = probe(plain_url(), "SET po2:p 1 EX 5", "GET po2:p", "--pool-rounds", "50")
        self.assertEqual(code, 0, text)
        self.assertEqual(lines, ["failed_rounds 0", "opened 1", "state closed"], text)

    def test_threads_share_at_most_max_open_connections(self):
        code, lines, _, text = probe(plain_url(), "SET po2:p 1 EX 5", "GET po2:p", "--pool-rounds", "100",
                                     "--pool-threads", "8", "--pool-max-open", "2", budget_ms=2000)
        self.assertEqual(code, 0, text)
        self.assertEqual(lines[0], "failed_rounds 0", text)
        self.assertIn(lines[1], ("opened 1", "opened 2"), text)

    def test_the_breaker_opens_on_a_stopped_redis_and_closes_when_it_is_back(self):
        args = [PROBE, "--url", plain_url(), "--password-file", PASSWORD_FILE, "--budget-ms", "100",
                "--pool-rounds", "40", "--breaker-open-ms", "300", "--round-pause-ms", "50", "GET po2:x"]
        os.kill(PLAIN.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        running = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)  # 3 rounds time out (the breaker opens), then rounds fail without I/O
        finally:
            os.kill(PLAIN.process.pid, signal.SIGCONT)
        out, err = running.communicate(timeout=30)
        text = out + err
        lines = out.splitlines()
        self.assertEqual(running.returncode, 0, text)
        self.assertEqual(lines[0], "breaker open", text)
        self.assertIn("breaker closed", lines, text)
        self.assertEqual(lines[-1], "state closed", text)
        failed = int(next(l for l in lines if l.startswith("failed_rounds")).split()[1])
        opened = int(next(l for l in lines if l.startswith("opened")).split()[1])
        elapsed = float(err.split("elapsed_ms ")[1])
        # Only the tries spend their 100 ms (3 to open, a trial per 300-600 ms, the reconnect); the
        # other failed rounds cost nothing: without the breaker each would have cost 100 ms too.
        self.assertGreater(failed, opened, text)
        self.assertLessEqual(opened, 7, text)
        self.assertLess(elapsed, 39 * 50 + opened * 100 + 500, text)
        self.assertLess(time.monotonic() - started, 10, text)

    def test_a_replica_answering_readonly_is_dropped_not_reused(self):
        primary = RedisServer(WORKDIR, "pool_primary", acl=False)
        replica = RedisServer(WORKDIR, "pool_replica", acl=False, extra=("--replicaof", "127.0.0.1", str(primary.port)))
        try:
            code, lines, _, text = probe(f"redis://127.0.0.1:{replica.port}/0", "SET po2:x 1", "--pool-rounds", "3",
                                         password=False)
        finally:
            replica.stop()
            primary.stop()
        self.assertEqual(code, 0, text)
        # Each round opens afresh: a connection that met READONLY is not given back to the pool.
        self.assertEqual(lines, ["breaker open", "failed_rounds 3", "opened 3", "state open"], text)

    def test_a_fast_failing_server_opens_the_breaker_without_waiting(self):
        code, lines, elapsed, text = probe(f"redis://cache@127.0.0.1:{free_port()}/0", "PING",
                                           "--pool-rounds", "20")
        self.assertEqual(code, 0, text)
        self.assertEqual(lines, ["breaker open", "failed_rounds 20", "opened 3", "state open"], text)
        self.assertLess(elapsed, BUDGET_MS, text)


class ClusterRedirects(unittest.TestCase):
    """Three masters in cluster mode: MOVED followed and remembered, ASK followed during a migration."""

    @classmethod
    def setUpClass(cls):
        cls.nodes = redis_server.start_cluster(WORKDIR, "cluster")

    @classmethod
    def tearDownClass(cls):
        for node in cls.nodes:
            node.stop()

    def url(self):
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def run_probe(self, *commands):
        code, lines, _, text = probe(self.url(), *commands, password=False, budget_ms=2000)
        redirects = [int(line.split()[1]) for line in text.splitlines() if line.startswith("redirects ")]
        return code, lines, redirects[0] if redirects else None, text

    def owner_of(self, key):
        """The node that serves `key` (the others answer -MOVED)."""
        for node in self.nodes:
            if not node.command(b"GET " + key.encode()).startswith(b"-MOVED"):
                return node
        raise AssertionError("no node owns " + key)

    def test_key_slot_agrees_with_the_server(self):
        self.assertEqual(self.nodes[0].command(b"CLUSTER KEYSLOT foo"), b":12182\r\n")
        self.assertEqual(self.nodes[0].command(b"CLUSTER KEYSLOT 123456789"), b":12739\r\n")

    def test_moved_is_followed_for_keys_on_every_node(self):
        keys = [f"po2:k{i}" for i in range(24)]
        code, lines, redirects, text = self.run_probe(*[f"SET {k} v-{k} EX 30" for k in keys],
                                                      *[f"GET {k}" for k in keys])
        self.assertEqual(code, 0, text)
        self.assertEqual(lines, ["status OK"] * len(keys) + [f"string v-{k}" for k in keys], text)
        # Keys off the seed node are redirected once each for SET; GET then goes straight there.
        off_seed = sum(1 for k in keys if self.owner_of(k) is not self.nodes[0])
        self.assertGreater(off_seed, 0)
        self.assertEqual(redirects, off_seed, text)

    def test_ask_is_followed_while_a_slot_migrates(self):
        key = "po2:ask"
        source = self.owner_of(key)
        target = next(n for n in self.nodes if n is not source)
        slot = int(source.command(b"CLUSTER KEYSLOT " + key.encode())[1:].strip())
        source_id = source.command(b"CLUSTER MYID").split(b"\r\n")[1]
        target_id = target.command(b"CLUSTER MYID").split(b"\r\n")[1]
        self.assertEqual(target.command(b"CLUSTER SETSLOT %d IMPORTING %s" % (slot, source_id)), b"+OK\r\n")
        self.assertEqual(source.command(b"CLUSTER SETSLOT %d MIGRATING %s" % (slot, target_id)), b"+OK\r\n")
        try:
            # The key is on neither yet: the source sends the writer to the target with -ASK.
            code, lines, _, text = self.run_probe(f"SET {key} moved-value EX 30", f"GET {key}")
            self.assertEqual(code, 0, text)
            self.assertEqual(lines, ["status OK", "string moved-value"], text)
            self.assertIn(b"-ASK", source.command(b"GET " + key.encode()))
        finally:
            for node in (source, target):
                node.command(b"CLUSTER SETSLOT %d STABLE" % slot)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", required=True)
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "/usr/bin/redis-server")
    options, rest = parser.parse_known_args()
    PROBE, REDIS_SERVER = os.path.abspath(options.probe), options.redis_server
    redis_server.BINARY = REDIS_SERVER
    unittest.main(argv=[sys.argv[0], "-v", *rest])
