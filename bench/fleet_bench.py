#!/usr/bin/env python3
"""A fleet of pam_oauth2d on this machine sharing one redis-server (as root: the daemons drop to
nobody after listening), against the scripted loopback identity provider, which counts requests.

    fleet_bench.py --build build-bench [--daemons 10] [--logins 1000] [--rounds 200]
                   [--memory-logins 100000] [--only requests,latency,hung,memory]

1. requests: `--logins` logins of one opaque (userinfo) token spread round-robin over `--daemons`
   daemons, one at a time: provider requests counted (then the same with the daemons' first logins
   all at once, and without the shared cache, for comparison).
2. latency: a login answered from the shared cache (the token written by another daemon, this one's
   memory empty) against one answered from memory, interleaved: fresh processes (pam_driver through
   libpam) p50/p95, the module's own ms=, and the daemon's share (VERIFY over its socket).
3. hung: Redis frozen (SIGSTOP): logins over the provider against the same logins on a daemon with no
   shared cache, interleaved, p50/p95 and the first few.
4. memory: one daemon's resident memory over `--memory-logins` logins with the shared cache on.

Every part is bounded (the whole run took 76 s here); compare rows of one run, not runs.
"""

import argparse
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import json
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
import pam_harness  # noqa: E402
import redis_server  # noqa: E402

BUDGET_MS = 150
MEMORY_ENTRIES = 2000


def table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |", flush=True)


def p(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds):
    return f"{seconds * 1000:.2f}"


class Provider:
    """tests/support/scripted_idp.py on a free loopback port, stopped by our pid, its answers sent
    without Nagle's delay: it writes headers and body apart, and a delayed ACK would add up to 40 ms to
    a provider request at random, hiding what the shared cache costs."""

    def __init__(self):
        support = os.path.join(HERE, "..", "tests", "support")
        code = (f"import sys; sys.path.insert(0, {support!r}); import scripted_idp; "
                "scripted_idp.Handler.disable_nagle_algorithm = True; scripted_idp.main()")
        self.process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()


class Fleet:
    """The scripted provider, one redis-server with the cache's ACL user, the fleet key, daemons."""

    def __init__(self, build):
        self.build = build
        self.daemon_binary = os.path.join(build, "pam_oauth2", "daemon", "pam_oauth2d")
        self.module = os.path.join(build, "pam_oauth2", "pam_oauth2.so")
        self.driver = os.path.join(build, "tests", "pam_driver")
        self.dir = tempfile.mkdtemp(prefix="pam_oauth2_fleet_bench_")
        os.chmod(self.dir, 0o755)
        self.daemons = []
        self.idp = self.redis = None
        try:
            self.idp = Provider()
            pam_harness.DEFAULT_ALLOW_HOSTS = f"127.0.0.1:{self.idp.port}"
            self.redis = redis_server.RedisServer(self.dir, "redis")
            self.key = self.secret("fleet.key", secrets.token_urlsafe(48))
            self.password = self.secret("password", redis_server.PASSWORD)
        except BaseException:
            self.stop()
            raise

    def secret(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        os.chmod(path, 0o600)
        return path

    def daemon(self, shared=True, extra=""):
        if shared:
            extra += (f"shared_cache = redis://cache@127.0.0.1:{self.redis.port}/0\n"
                     f"shared_cache_key_file = {self.key}\nshared_cache_password_file = {self.password}\n"
                     f"shared_cache_prefix = po2:\nshared_cache_budget_ms = {BUDGET_MS}\n")
        started = pam_harness.Daemon(self.daemon_binary, extra=extra)
        self.daemons.append(started)
        return started

    def args(self, ttl=3600):
        return [f"userinfo_url=http://127.0.0.1:{self.idp.port}/userinfo", "allow_http", f"cache_ttl={ttl}"]

    def requests(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.idp.port}/stats", timeout=5) as answer:
            return json.load(answer)["requests"]

    def socket_login(self, daemon, token, ttl=3600):
        """PREPARE and VERIFY over the daemon's socket; whether it granted."""
        answer = pam_harness.broker_login(daemon.socket, self.args(ttl), "alice", token.encode(), b"bench")
        return answer[0] == 4 and b"result=granted" in answer

    def process_login(self, daemon, token, ttl=3600):
        """A login in a fresh process (pam_driver through libpam): (granted, wall s, module ms=)."""
        service = pam_harness.PamService(self.module, ["log=stderr", f"broker={daemon.socket}",
                                                       "broker_fallback=deny", *self.args(ttl)])
        try:
            auth, acct, log, seconds = pam_harness.run_driver(self.driver, service, "alice", token)
        finally:
            service.remove()
        found = re.search(r"\bms=([0-9.]+)", log)
        return auth == "PAM_SUCCESS" and acct == "PAM_SUCCESS", seconds, float(found.group(1)) if found else None

    def stop(self):
        for daemon in self.daemons:
            daemon.stop()
        for started in (self.redis, self.idp):
            if started is not None:
                started.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def token():
    return f"user-alice~{secrets.token_hex(8)}"


def requests_part(fleet, count, logins):
    daemons = [fleet.daemon() for _ in range(count)]
    rows = []
    # Sequential, round-robin: each login on the next host.
    one = token()
    before = fleet.requests()
    started = time.monotonic()
    refused = sum(0 if fleet.socket_login(daemons[i % count], one) else 1 for i in range(logins))
    seconds = time.monotonic() - started
    rows.append([f"shared cache, {logins} logins round-robin, one at a time", fleet.requests() - before, refused,
                 f"{seconds:.1f}"])
    # Every host's first login of a new token at the same moment, then the rest round-robin.
    one = token()
    before = fleet.requests()
    gate = threading.Barrier(count)
    results, spans = [], []

    def first(daemon):
        gate.wait()
        started = time.monotonic()
        results.append(fleet.socket_login(daemon, one))
        spans.append((started, time.monotonic()))

    threads = [threading.Thread(target=first, args=(d,)) for d in daemons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = results.count(False) + sum(0 if fleet.socket_login(daemons[i % count], one) else 1
                                         for i in range(logins - count))
    overlap = min(end for _, end in spans) - max(start for start, _ in spans)
    rows.append([f"shared cache, the {count} first logins at once (all {count} under way together for "
                 f"{max(overlap, 0) * 1000:.1f} ms), then round-robin", fleet.requests() - before, refused, ""])
    for daemon in daemons:
        daemon.stop()
    fleet.daemons = [d for d in fleet.daemons if d not in daemons]
    # The same fleet without the shared cache.
    alone = [fleet.daemon(shared=False) for _ in range(count)]
    one = token()
    before = fleet.requests()
    refused = sum(0 if fleet.socket_login(alone[i % count], one) else 1 for i in range(logins))
    rows.append([f"no shared cache, {logins} logins round-robin", fleet.requests() - before, refused, ""])
    for daemon in alone:
        daemon.stop()
    fleet.daemons = [d for d in fleet.daemons if d not in alone]
    table(f"{count} daemons, one redis-server, one opaque token (userinfo, cache_ttl=3600)",
          ["logins", "provider requests", "refused", "seconds"], rows)


def fresh_pairs(fleet, writer, reader, tokens):
    """For each token (already in Redis): a fresh-process login from the shared cache (the reader's
    memory misses), then one from memory; (shared seconds, memory seconds) lists."""
    shared, memory = [], []
    for one in tokens:
        for times in (shared, memory):
            granted, seconds, _ = fleet.process_login(reader, one)
            if not granted:
                raise RuntimeError("a login from a cache was refused")
            times.append(seconds)
    return shared, memory


def verify_seconds(fleet, daemon, one):
    """VERIFY alone over the daemon's socket from this warm process: the daemon's share of a login."""
    context = [(1, a.encode()) for a in fleet.args()] + [(2, b"bench"), (3, b"alice"), (4, b"127.0.0.1"),
                                                        (5, one.encode())]
    started = time.perf_counter()
    pam_harness.broker_request(daemon.socket, 3, context)
    return time.perf_counter() - started


def fork_pairs(fleet, writer, reader, rounds):
    """bench/fork_login (fork without exec, libc and libpam only): round k presents token base+k twice,
    first to the reader whose memory misses (from the shared cache), then again (from memory);
    {"shared": (p50 s, p95 s), "memory": ...}."""
    base = token()
    for k in range(rounds):
        fleet.socket_login(writer, f"{base}{k}")
    time.sleep(0.05)
    confdir = tempfile.mkdtemp(prefix="pam_oauth2_fleet_bench_svc_")
    line = " ".join([fleet.module, "log=stderr", f"broker={reader.socket}", "broker_fallback=deny", *fleet.args()])
    try:
        for name in ("shared", "memory"):
            with open(os.path.join(confdir, name), "w") as f:
                f.write(f"auth required {line}\naccount required {fleet.module}\n")
        env = dict(os.environ, FORK_LOGIN_PER_ROUND="1", FORK_LOGIN_TOKEN_0=base, FORK_LOGIN_TOKEN_1=base)
        done = subprocess.run([os.path.join(fleet.build, "bench", "fork_login"), confdir, "alice", str(rounds),
                               "shared", "memory"], env=env, check=True, capture_output=True, text=True)
    finally:
        shutil.rmtree(confdir)
    results = {}
    for row in done.stdout.split("\n"):
        if row.strip():
            name, p50, p95, failures, _ = row.split()
            if int(failures):
                raise RuntimeError(f"fork_login: {failures} {name} logins failed")
            results[name] = (float(p50) / 1000, float(p95) / 1000)
    return results


def exec_pairs(fleet, writer, reader, rounds):
    """pam_driver exec'd from a shell loop (no Python between the logins), timed by the shell: round k
    presents token base+k to the reader twice, from the shared cache, then from memory; (shared
    seconds, memory seconds) lists."""
    base = token()
    for k in range(rounds):
        fleet.socket_login(writer, f"{base}{k}")
    time.sleep(0.05)
    service = pam_harness.PamService(fleet.module, ["log=stderr", f"broker={reader.socket}", "broker_fallback=deny",
                                                    *fleet.args()])
    script = ('for k in $(seq 0 $((ROUNDS - 1))); do for kind in shared memory; do s=$EPOCHREALTIME; '
              'PAM_OAUTH2_TEST_TOKEN="$BASE$k" "$DRIVER" "$DIR" "$NAME" alice >/dev/null 2>&1; '
              'echo "$kind $s $EPOCHREALTIME"; done; done')
    try:
        env = dict(os.environ, ROUNDS=str(rounds), BASE=base, DRIVER=fleet.driver, DIR=service.dir, NAME=service.name)
        done = subprocess.run(["bash", "-c", script], env=env, check=True, capture_output=True, text=True)
    finally:
        service.remove()
    times = {"shared": [], "memory": []}
    for row in done.stdout.split("\n"):
        if row.strip():
            kind, started, ended = row.split()
            times[kind].append(float(ended) - float(started))
    return times["shared"], times["memory"]


def latency_part(fleet, rounds):
    writer, reader = fleet.daemon(), fleet.daemon()
    for _ in range(5):  # the pools' connections and the provider's, warm
        warm = token()
        fleet.socket_login(writer, warm)
        fleet.process_login(reader, warm)
    rows = {"written before": ([], []), "written just before": ([], []), "daemon's share": ([], [])}
    before = fleet.requests()
    for start in range(0, rounds, 20):
        batch = [token() for _ in range(min(20, rounds - start))]
        # The entries written a moment before, in a batch: each login sees a quiet writer.
        for one in batch:
            fleet.socket_login(writer, one)
        time.sleep(0.05)
        for kind, got in zip(rows["written before"], fresh_pairs(fleet, writer, reader, batch)):
            kind.extend(got)
        # Each entry written by the other host right before the reader's login: the login competes
        # for the 2 cores with the tail of the writer's (its provider request, its SET, its log line).
        for one in [token() for _ in batch]:
            fleet.socket_login(writer, one)
            for kind, got in zip(rows["written just before"], fresh_pairs(fleet, writer, reader, [one])):
                kind.extend(got)
    written = [token() for _ in range(rounds)]
    for one in written:
        fleet.socket_login(writer, one)
    time.sleep(0.05)
    for one in written:
        rows["daemon's share"][0].append(verify_seconds(fleet, reader, one))
        rows["daemon's share"][1].append(verify_seconds(fleet, reader, one))
    forked = fork_pairs(fleet, writer, reader, rounds)
    rows["exec'd from a shell"] = exec_pairs(fleet, writer, reader, rounds)
    # The writer asked once per token (two batches above, fork_login, the shell loop, the VERIFYs).
    asked = fleet.requests() - before - 5 * rounds
    lines = [[{"written before": "fresh process (pam_driver run by Python), entries written a moment before",
               "written just before": "fresh process (pam_driver run by Python), each entry written right before",
               "exec'd from a shell": "fresh process (pam_driver exec'd by a shell loop), entries written before",
               "daemon's share": "the daemon's share: VERIFY over its socket"}[label],
              ms(statistics.median(s)), ms(p(s, 0.95)), ms(statistics.median(m)), ms(p(m, 0.95)),
              f"{(statistics.median(s) - statistics.median(m)) * 1000:+.2f}"]
             for label, (s, m) in sorted(rows.items(), key=lambda row: row[0] != "exec'd from a shell")]
    lines.insert(0, ["fresh process (fork_login: fork, no exec), entries written a moment before",
                     ms(forked["shared"][0]), ms(forked["shared"][1]), ms(forked["memory"][0]),
                     ms(forked["memory"][1]), f"{(forked['shared'][0] - forked['memory'][0]) * 1000:+.2f}"])
    table(f"A login from the shared cache against one from memory, same reader, interleaved ({rounds} each, ms; "
          f"provider requests by the reader: {asked})",
          ["measured", "shared p50", "shared p95", "memory p50", "memory p95", "shared - memory p50"], lines)
    for daemon in (writer, reader):
        daemon.stop()
    fleet.daemons = [d for d in fleet.daemons if d not in (writer, reader)]


def hung_part(fleet, rounds):
    own = redis_server.RedisServer(fleet.dir, f"hung-{secrets.token_hex(4)}")
    saved, fleet.redis = fleet.redis, own
    try:
        hung, plain = fleet.daemon(), fleet.daemon(shared=False)
        for _ in range(3):
            fleet.socket_login(hung, token())
            fleet.socket_login(plain, token())
        os.kill(own.process.pid, signal.SIGSTOP)
        times = {"hung": [], "plain": []}
        try:
            for _ in range(rounds):
                for kind, daemon in (("hung", hung), ("plain", plain)):
                    granted, seconds, _ = fleet.process_login(daemon, token())
                    if not granted:
                        raise RuntimeError(f"a login with {kind} Redis was refused")
                    times[kind].append(seconds)
        finally:
            os.kill(own.process.pid, signal.SIGCONT)
        h50, n50 = statistics.median(times["hung"]), statistics.median(times["plain"])
        table(f"Logins over the provider, Redis frozen (SIGSTOP) against no shared cache ({rounds} each, "
              f"interleaved, fresh processes, budget {BUDGET_MS} ms, ms)",
              ["daemon", "p50", "p95", "max", "first five"],
              [["shared cache on a frozen Redis", ms(h50), ms(p(times["hung"], 0.95)), ms(max(times["hung"])),
                ", ".join(f"{t * 1000:.0f}" for t in times["hung"][:5])],
               ["no shared cache", ms(n50), ms(p(times["plain"], 0.95)), ms(max(times["plain"])),
                ", ".join(f"{t * 1000:.0f}" for t in times["plain"][:5])],
               ["difference of the p50s", f"{(h50 - n50) * 1000:+.2f}", "", "", ""]])
        for daemon in (hung, plain):
            daemon.stop()
        fleet.daemons = [d for d in fleet.daemons if d not in (hung, plain)]
    finally:
        fleet.redis = saved
        own.stop()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memory_part(fleet, logins):
    """One daemon, shared cache on: logins alternate a kept token (memory), a token another daemon
    wrote (a shared hit) and a new token (a miss in both, the provider asked, written to Redis). Its
    memory level holds MEMORY_ENTRIES entries, full after the first few thousand logins: from then on
    what grows is not the cache."""
    writer, measured = fleet.daemon(), fleet.daemon(extra=f"cache_entries = {MEMORY_ENTRIES}\n")
    kept = token()
    pid = measured.process.pid
    samples = []
    started = time.monotonic()
    for i in range(logins):
        if i % 3 == 0:
            fleet.socket_login(measured, kept)
        elif i % 3 == 1:
            one = token()
            fleet.socket_login(writer, one)
            fleet.socket_login(measured, one)
        else:
            fleet.socket_login(measured, token())
        if i + 1 in (1000, 10000, logins // 2, logins) and (not samples or samples[-1][0] != i + 1):
            samples.append((i + 1, rss_kib(pid)))
    seconds = time.monotonic() - started
    table(f"pam_oauth2d resident memory, shared cache on, cache_entries = {MEMORY_ENTRIES}, over {logins} logins "
          f"({logins / seconds:.0f}/s over the socket; a third each from memory, from the shared cache, from the "
          "provider)",
          ["logins", "VmRSS KiB"], samples)
    for daemon in (writer, measured):
        daemon.stop()
    fleet.daemons = [d for d in fleet.daemons if d not in (writer, measured)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True, help="a build tree with pam_oauth2d, pam_oauth2.so, pam_driver")
    parser.add_argument("--daemons", type=int, default=10)
    parser.add_argument("--logins", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--memory-logins", type=int, default=100000)
    parser.add_argument("--only", default="requests,latency,hung,memory")
    options = parser.parse_args()
    parts = options.only.split(",")
    fleet = Fleet(os.path.abspath(options.build))
    try:
        if "requests" in parts:
            requests_part(fleet, options.daemons, options.logins)
        if "latency" in parts:
            latency_part(fleet, options.rounds)
        if "hung" in parts:
            hung_part(fleet, max(10, options.rounds // 4))
        if "memory" in parts:
            memory_part(fleet, options.memory_logins)
    finally:
        fleet.stop()


if __name__ == "__main__":
    main()
