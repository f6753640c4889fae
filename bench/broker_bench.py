#!/usr/bin/env python3
"""What pam_oauth2d buys, measured side by side in one run against the real oidc-provider over
loopback HTTPS (as root: it starts PostgreSQL and pgbouncer, and writes /etc/pam.d/pam_oauth2_bench_*
and /etc/pam.d/pgbouncer while it runs, removing them at the end).

    broker_bench.py --build build-bench [--rounds 200] [--connections 300] [--verifications 100000]
                    [--only fork,pgbench,pgbouncer,memory,breakdown]

1. fork: logins in fresh processes, fork() without exec() from a C program that has only libc and
   libpam loaded (bench/fork_login.c), for pam_permit and for the module in-process and through the
   broker: p50/p95 wall time, the ratio to pam_permit's p50, and the child's peak memory.
2. pgbench: `pgbench -C` (a new connection, so a new backend and a PAM login, per transaction) on one
   PostgreSQL cluster whose pg_hba.conf gives each role its method: trust, scram-sha-256, pam_permit,
   and the module in-process and through the broker. Connections per second.
3. pgbouncer: client logins per second through pgbouncer's single PAM thread (auth_type = pam), with
   /etc/pam.d/pgbouncer switched between pam_permit, the module in-process and through the broker.
4. memory: the daemon's resident memory while it serves N verifications over its socket (half a
   valid JWT, half distinct refused tokens that fill its negative cache).
5. breakdown (only when asked): the daemon's share, PREPARE and VERIFY timed over the socket from a
   warm client, without a process start.

Rounds alternate the configurations so every one sees the same moments of a noisy machine: compare
rows of one run, not numbers across runs.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
import fixtures  # noqa: E402
import pam_harness  # noqa: E402


def table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |", flush=True)


class Setup:
    """The identity provider, a daemon, the module's copies and the argument lines every part uses."""

    def __init__(self, build):
        self.build = build
        self.ws = fixtures.Workspace(os.path.join(build, "pam_oauth2", "pam_oauth2.so"))
        self.idp = self.broker = None
        try:
            self.start(build)
        except BaseException:
            self.stop()  # the provider and the daemon started so far, by their pids
            raise

    def start(self, build):
        self.idp = fixtures.OidcProvider(self.ws)
        self.broker = fixtures.Broker(self.ws, os.path.join(build, "pam_oauth2", "daemon", "pam_oauth2d"),
                                      urllib.parse.urlsplit(self.idp.issuer).netloc)
        # The endpoints of a file holding a client secret are the file's (arguments may not move them).
        secret = (f"introspection_url = {self.idp.introspection_url}\n"
                  "client_id = pg-introspect\nclient_secret = pg-introspect-secret\n")
        self.conf_local = self.ws.write_conf("bench-local.conf", secret)
        self.conf_broker = self.ws.write_conf("bench-broker.conf", secret, group=fixtures.DAEMON_GROUP)
        common = f"log=stderr ca_file={self.ws.ca} cache_dir={self.ws.cache_dir}"
        jwt = f"verify=jwt issuer={self.idp.issuer} audience=postgres"
        userinfo = f"userinfo_url={self.idp.userinfo_url}"
        introspect = "verify=introspect allow_any_audience require_claim=client_id:psql"
        broker = f"broker={self.broker.socket} broker_fallback=deny"
        m = self.ws.module
        # The service user must be able to load it, as it loads the module copy beside it.
        prompt_permit = self.ws.path("pam_prompt_permit.so")
        shutil.copy(os.path.join(build, "bench", "pam_prompt_permit.so"), prompt_permit)
        os.chmod(prompt_permit, 0o755)
        # name -> (PAM line after the control, token kind)
        self.lines = {
            "permit": ("pam_permit.so", "opaque"),
            "prompt_permit": (prompt_permit, "opaque"),
            "jwt": (f"{m} {common} {jwt}", "jwt"),
            "userinfo_cached": (f"{m} {common} {userinfo} cache_ttl=3600", "opaque"),
            "userinfo_new": (f"{m} {common} {userinfo} cache_ttl=0", "opaque"),
            "introspect_cached": (f"{m} {common} {introspect} conf={self.conf_local} cache_ttl=3600", "opaque"),
            "introspect_new": (f"{m} {common} {introspect} conf={self.conf_local} cache_ttl=0", "opaque"),
            "broker_jwt": (f"{m} {broker} {common} {jwt}", "jwt"),
            "broker_userinfo_cached": (f"{m} {broker} {common} {userinfo} cache_ttl=3600", "opaque"),
            "broker_userinfo_new": (f"{m} {broker} {common} {userinfo} cache_ttl=0", "opaque"),
            "broker_introspect_cached": (f"{m} {broker} {common} {introspect} conf={self.conf_broker} cache_ttl=3600",
                                         "opaque"),
            "broker_introspect_new": (f"{m} {broker} {common} {introspect} conf={self.conf_broker} cache_ttl=0",
                                      "opaque"),
        }

    def token(self, kind, user):
        if kind == "jwt":
            return self.idp.mint(user, scope="openid profile groups db", resource="postgres")
        return self.idp.mint(user)

    def stop(self):
        for started in (self.broker, self.idp):
            if started is not None:
                started.stop()
        self.ws.remove()


TITLES = {
    "permit": "pam_permit (the floor: fork + libpam)",
    "prompt_permit": "prompt, then permit (the floor for any module reading a password)",
    "jwt": "in-process, jwt, JWKS from the disk cache",
    "userinfo_cached": "in-process, userinfo, verdict from the disk cache",
    "userinfo_new": "in-process, userinfo over HTTPS (no cache)",
    "introspect_cached": "in-process, introspect, verdict from the disk cache",
    "introspect_new": "in-process, introspect over HTTPS (no cache)",
    "broker_jwt": "broker, jwt (JWKS in memory)",
    "broker_userinfo_cached": "broker, userinfo, verdict in memory",
    "broker_userinfo_new": "broker, userinfo over a warm connection (no cache)",
    "broker_introspect_cached": "broker, introspect, verdict in memory",
    "broker_introspect_new": "broker, introspect over a warm connection (no cache)",
}


def fork_logins(setup, services, rounds):
    """`services`: name -> (PAM service file text, token kind). Logins in fresh processes, the services
    alternating login by login; name -> (p50, p95, failures, peak RSS KiB)."""
    confdir = tempfile.mkdtemp(prefix="pam_oauth2_bench_")
    env = dict(os.environ)
    names = list(services)
    try:
        for index, name in enumerate(names):
            text, kind = services[name]
            with open(os.path.join(confdir, name), "w") as f:
                f.write(text)
            env[f"FORK_LOGIN_TOKEN_{index}"] = setup.token(kind, "alice")
        fork_login = os.path.join(setup.build, "bench", "fork_login")
        # One round to warm what each configuration keeps (disk caches, the daemon's memory and connections).
        subprocess.run([fork_login, confdir, "alice", "3", *names], env=env, check=True, capture_output=True)
        done = subprocess.run([fork_login, confdir, "alice", str(rounds), *names], env=env, check=True,
                              capture_output=True, text=True)
    finally:
        shutil.rmtree(confdir)
    results = {}
    for line in done.stdout.split("\n"):
        if line.strip():
            name, p50, p95, failures, rss = line.split()
            results[name] = (float(p50), float(p95), int(failures), int(rss))
    return results


def fork_part(setup, rounds):
    services = {name: (f"auth required {line}\naccount required {line.split()[0]}\n", kind)
                for name, (line, kind) in setup.lines.items()}
    results = fork_logins(setup, services, rounds)
    floor = results["permit"][0]
    table(f"Fresh-process logins, fork without exec ({rounds} each, ms)",
          ["login", "p50", "p95", "vs pam_permit", "failures", "peak RSS KiB"],
          [[TITLES[name], f"{p50:.2f}", f"{p95:.2f}", f"{p50 / floor:.2f}x", failures, rss]
           for name, (p50, p95, failures, rss) in results.items()])


STAGES = [
    ("permit", "pam_permit: fork, libpam, one module", None),
    ("loaded", "+ pam_oauth2.so loaded, never called", "the front's load"),
    ("prepared", "+ called: one connection, PREPARE answered with a configuration error", "connect + PREPARE"),
    ("cached", "+ the conversation and VERIFY: a verdict in memory", "conversation + connect + VERIFY"),
    ("jwt", "a jwt instead (JWKS in memory, signature checked)", "the jwt check"),
]


def stages_part(setup, rounds):
    """Where a broker login's time goes in a fresh process: each row adds one stage to the one above."""
    module = setup.lines["broker_userinfo_cached"][0]
    permit = "account required pam_permit.so\n"
    services = {
        "permit": ("auth required pam_permit.so\n" + permit, "opaque"),
        "loaded": (f"auth sufficient pam_permit.so\nauth required {module}\n" + permit, "opaque"),
        # An option the daemon does not know: it answers PREPARE with the configuration error.
        "prepared": (f"auth required {module} no_such_option=1\n" + permit, "opaque"),
        "cached": (f"auth required {module}\n" + permit, "opaque"),
        "jwt": (f"auth required {setup.lines['broker_jwt'][0]}\n" + permit, "jwt"),
    }
    results = fork_logins(setup, services, rounds)
    rows, previous = [], None
    for name, title, stage in STAGES:
        p50 = results[name][0]
        base = results["cached" if name == "jwt" else previous][0] if previous else None
        rows.append([title, f"{p50:.3f}", f"{p50 - base:+.3f} ({stage})" if base is not None else "",
                     f"{p50 / results['permit'][0]:.2f}x"])
        previous = name
    table(f"Where a broker login's time goes, fresh processes ({rounds} each, p50 ms)",
          ["stack", "p50", "added by", "vs pam_permit"], rows)


def pgbench(port, user, token, connections, database="postgres", clients=1):
    script = os.path.join(tempfile.gettempdir(), f"pam_oauth2_bench_{os.getpid()}.sql")
    with open(script, "w") as f:
        f.write("SELECT 1;\n")
    env = dict(os.environ, PGPASSWORD=token)
    started = time.monotonic()
    done = subprocess.run(["pgbench", "-n", "-C", "-c", str(clients), "-j", str(min(clients, 2)), "-t",
                           str(max(1, connections // clients)), "-f", script,
                           "-h", "127.0.0.1", "-p", str(port), "-U", user, database], env=env, capture_output=True,
                          text=True)
    elapsed = time.monotonic() - started
    os.unlink(script)
    failed = done.returncode != 0 or "number of failed transactions: 0" not in done.stdout
    made = clients * max(1, connections // clients)
    return elapsed, made, failed, done.stdout + done.stderr


def interleaved_rates(rows, connections, run):
    """Connections per second for each row, and how many connections each row made: `run(name, count)`
    -> pgbench's result, six rounds that alternate the rows so every one sees the same moments of the
    machine."""
    rounds = 6
    totals = {name: [0.0, 0] for name in rows}
    for _ in range(rounds):
        for name in rows:
            elapsed, made, failed, output = run(name, connections // rounds)
            if failed:
                raise RuntimeError(f"pgbench {name} failed: {output[-800:]}")
            totals[name][0] += elapsed
            totals[name][1] += made
    return {name: count / seconds for name, (seconds, count) in totals.items()}, totals[rows[0]][1]


def rate_rows(rows, rates):
    return [[TITLES.get(name, name), f"{rates[name]:.1f}", f"{rates[name] / rates['permit']:.2f}x",
             f"{rates[name] / rates['prompt_permit']:.2f}x"] for name in rows]


def drop_cluster(cluster):
    """Stops a cluster and removes its files, so the next part can make its own in the workspace."""
    cluster.stop()
    for path in (cluster.data, cluster.socket_dir, cluster.log_path):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.unlink(path)


def pgbench_part(setup, connections):
    """One cluster; pg_hba.conf picks the method by database (db_<row>), everyone logs in as alice."""
    rows = ["trust", "scram", "permit", "prompt_permit", "jwt", "userinfo_cached", "userinfo_new", "introspect_new",
            "broker_jwt", "broker_userinfo_cached", "broker_introspect_cached", "broker_userinfo_new",
            "broker_introspect_new"]
    services = []
    cluster = None
    try:
        cluster = fixtures.PostgresCluster(setup.ws, "pam_oauth2_bench_permit")
        hba = ["local all postgres peer", "host db_trust alice 127.0.0.1/32 trust",
               "host db_scram alice 127.0.0.1/32 scram-sha-256"]
        tokens = {"trust": "unused", "scram": "scram-password"}
        for name in rows[2:]:
            service = f"pam_oauth2_bench_{name}"
            line, kind = setup.lines[name]
            services.append(fixtures.PamServiceFile(service, line.split()[0], line.split()[1:]))
            hba.append(f"host db_{name} alice 127.0.0.1/32 pam pamservice={service}")
            tokens[name] = setup.token(kind, "alice")
        with open(os.path.join(cluster.data, "pg_hba.conf"), "w") as f:
            f.write("\n".join(hba) + "\n")
        cluster.admin_sql("CREATE ROLE alice LOGIN PASSWORD 'scram-password'; SELECT pg_reload_conf();")
        for name in rows:
            cluster.admin_sql(f"CREATE DATABASE db_{name}")
        rates, made = interleaved_rates(rows, connections, lambda name, count: pgbench(
            cluster.port, "alice", tokens[name], count, f"db_{name}"))
        table(f"PostgreSQL, pgbench -C ({made} connections each, one cluster)",
              ["authentication", "connections/s", "vs pam_permit", "vs prompt-then-permit"], rate_rows(rows, rates))
    finally:
        for service in services:
            service.remove()
        if cluster:
            drop_cluster(cluster)


BOUNCER_CLIENTS = 20


def pgbouncer_part(setup, connections):
    if os.path.exists("/etc/pam.d/pgbouncer"):
        print("\n(pgbouncer skipped: /etc/pam.d/pgbouncer exists)")
        return
    rows = ["permit", "prompt_permit", "jwt", "userinfo_new", "broker_jwt", "broker_userinfo_new"]
    cluster = bouncer = pam = None
    try:
        cluster = fixtures.PostgresCluster(setup.ws, "pam_oauth2_bench_pool")
        with open(os.path.join(cluster.data, "pg_hba.conf"), "w") as f:
            f.write("local all postgres peer\nhost all all 127.0.0.1/32 trust\n")
        cluster.admin_sql("CREATE ROLE alice LOGIN; SELECT pg_reload_conf();")
        pam = fixtures.PamServiceFile("pgbouncer", "pam_permit.so", [])
        bouncer = fixtures.PgBouncer(setup.ws, cluster)
        tokens = {name: setup.token(setup.lines[name][1], "alice") for name in rows}

        def through_bouncer(name, count):
            line = setup.lines[name][0].split()
            pam.write(line[0], line[1:])  # pgbouncer reads its PAM service file at each login
            # Concurrent clients: pgbouncer collects PAM results on a timer, so one client at a time
            # measures that timer (about 3 logins/s whatever the module); a full queue measures PAM.
            return pgbench(bouncer.port, "alice", tokens[name], count, clients=BOUNCER_CLIENTS)

        rates, made = interleaved_rates(rows, connections, through_bouncer)
        table(f"pgbouncer, auth_type = pam, pgbench -C -c {BOUNCER_CLIENTS} ({made} client logins each)",
              ["PAM service pgbouncer", "logins/s", "vs pam_permit", "vs prompt-then-permit"], rate_rows(rows, rates))
    finally:
        if bouncer:
            bouncer.stop()
        if pam:
            pam.remove()
        if cluster:
            drop_cluster(cluster)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memory_part(setup, verifications):
    """Speaks the wire format directly (PREPARE, VERIFY) so the daemon, not process start-up, is measured."""
    args = setup.lines["broker_jwt"][0].split()[1:]
    good = setup.token("jwt", "alice").encode()
    pid = setup.broker.process.pid
    samples = []
    started = time.monotonic()
    for i in range(verifications):
        token = good if i % 2 == 0 else b"refused-" + str(i).encode()
        pam_harness.broker_login(setup.broker.socket, args, "alice", token, b"bench")
        if i + 1 in (1000, verifications // 10, verifications // 2, verifications):
            samples.append((i + 1, rss_kib(pid)))
    seconds = time.monotonic() - started
    table(f"pam_oauth2d resident memory over {verifications} verifications "
          f"({verifications / seconds:.0f}/s over the socket, one at a time)",
          ["verifications", "VmRSS KiB"], samples)


def breakdown_part(setup, rounds):
    """The daemon's share of a login, from a warm client speaking the wire format: each request on its
    own connection (connect, request, answer, close), as the module sends them."""
    time.sleep(2.2)  # conf= files just written are not kept by the daemon's configuration cache
    rows = []
    for name in [n for n in setup.lines if n.startswith("broker_")]:
        line, kind = setup.lines[name]
        args = line.split()[1:]
        token = setup.token(kind, "alice").encode()
        context = [(1, a.encode()) for a in args] + [(2, b"bench")]
        prepare, verify = [], []
        for i in range(rounds + 5):
            started = time.perf_counter()
            pam_harness.broker_request(setup.broker.socket, 1, context)
            middle = time.perf_counter()
            pam_harness.broker_request(setup.broker.socket, 3, context + [(3, b"alice"), (4, b"127.0.0.1"),
                                                                         (5, token)])
            if i >= 5:  # the first ones warm the caches
                prepare.append(middle - started)
                verify.append(time.perf_counter() - middle)
        rows.append([TITLES[name], f"{statistics.median(prepare) * 1000:.3f}",
                     f"{statistics.median(verify) * 1000:.3f}"])
    table(f"The daemon's share: PREPARE and VERIFY over the socket from a warm client ({rounds} each, p50 ms)",
          ["login", "PREPARE", "VERIFY"], rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True, help="a Release build tree with the bench targets")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--verifications", type=int, default=100000)
    parser.add_argument("--only", default="fork,pgbench,pgbouncer,memory")
    options = parser.parse_args()
    parts = options.only.split(",")
    setup = Setup(os.path.abspath(options.build))
    try:
        if "fork" in parts:
            fork_part(setup, options.rounds)
        if "pgbench" in parts:
            pgbench_part(setup, options.connections)
        if "pgbouncer" in parts:
            pgbouncer_part(setup, options.connections)
        if "breakdown" in parts:
            breakdown_part(setup, options.rounds)
        if "stages" in parts:
            stages_part(setup, options.rounds)
        if "memory" in parts:
            memory_part(setup, options.verifications)
    finally:
        setup.stop()


if __name__ == "__main__":
    main()
