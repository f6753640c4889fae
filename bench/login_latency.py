#!/usr/bin/env python3
"""Cost of one login in a fresh process, as PostgreSQL runs it (a new backend per connection):
pam_driver does pam_start + pam_authenticate + pam_acct_mgmt + pam_end through the real libpam,
against the real oidc-provider test identity provider over loopback HTTPS.

    login_latency.py --module build/pam_oauth2/pam_oauth2.so --driver build/tests/pam_driver [--runs 200]
                     [--against OTHER/pam_oauth2.so]

Prints, per configuration, the median and 95th percentile of the whole process (wall) and of the
module's own `ms=` (in-module time). Compare rows of one run; absolute numbers depend on the machine.
With --against, every configuration also runs with another build of the module (say, of the previous
release), login for login in turn with this one, and a second row shows it.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import fixtures  # noqa: E402


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def login(driver, confdir, service, user, env, walls, inside):
    started = time.perf_counter()
    done = subprocess.run([driver, confdir, service, user], env=env, capture_output=True, text=True)
    walls.append((time.perf_counter() - started) * 1000)
    if "authenticate=PAM_SUCCESS" not in done.stdout:
        raise RuntimeError(f"{service}: login failed: {done.stdout} {done.stderr[-500:]}")
    found = re.search(r" ms=(\d+)", done.stderr)
    if found:
        inside.append(int(found.group(1)))


def measure(driver, confdir, services, user, token, runs, before_each=None):
    """Logins alternating between `services` (one per module compared), so every module sees the
    same moments of a noisy machine. Returns (walls, inside) per service."""
    results = [([], []) for _ in services]
    env = dict(os.environ, PAM_OAUTH2_TEST_TOKEN=token)
    for _ in range(runs):
        for service, (walls, inside) in zip(services, results):
            if before_each:
                before_each()
            login(driver, confdir, service, user, env, walls, inside)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--driver", required=True)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--against", help="another pam_oauth2.so to measure side by side")
    options = parser.parse_args()
    module, driver = os.path.abspath(options.module), os.path.abspath(options.driver)
    modules = [module] + ([os.path.abspath(options.against)] if options.against else [])

    workspace = fixtures.Workspace(module)
    idp = fixtures.OidcProvider(workspace)
    confdir = tempfile.mkdtemp(prefix="pam_oauth2_bench_")
    cache = os.path.join(confdir, "cache")
    os.makedirs(cache)
    # A CA bundle the size of the system one (test CA appended), to show what parsing it costs.
    bundle = os.path.join(confdir, "bundle.pem")
    with open(bundle, "w") as out:
        for path in ("/etc/ssl/certs/ca-certificates.crt", workspace.ca):
            with open(path) as f:
                out.write(f.read())
    common = f"log=stderr ca_file={workspace.ca} cache_dir={cache}"
    # The endpoints of a file holding a client secret are the file's (arguments may not move them).
    introspect_conf = workspace.write_conf("bench.conf", f"introspection_url = {idp.introspection_url}\n"
                                           "client_id = pg-introspect\nclient_secret = pg-introspect-secret\n")
    # Written for this module; another build is measured with the same lines (cases it refuses are skipped).
    services = {
        "permit": "pam_permit.so",
        "userinfo": f"{module} {common} cache_ttl=0 userinfo_url={idp.userinfo_url}",
        "userinfo_cached": f"{module} {common} cache_ttl=3600 userinfo_url={idp.userinfo_url}",
        "userinfo_big_bundle": f"{module} log=stderr ca_file={bundle} cache_ttl=0 userinfo_url={idp.userinfo_url}",
        "introspect": f"{module} {common} cache_ttl=0 verify=introspect "
                      "allow_any_audience require_claim=client_id:psql "
                      f"conf={introspect_conf}",
        "jwt": f"{module} {common} verify=jwt issuer={idp.issuer} audience=postgres cache_dir={cache}",
    }
    for index, other in enumerate(modules):
        for name, line in services.items():
            with open(os.path.join(confdir, f"{name}{index}"), "w") as f:
                line = line.replace(module, other, 1)
                f.write(f"auth required {line}\naccount required {line.split()[0]}\n")
    opaque = idp.mint("alice")
    jwt = idp.mint("alice", scope="openid profile groups db", resource="postgres")

    def clear_cache():
        shutil.rmtree(cache)
        os.makedirs(cache)

    cases = [
        ("pam_permit (process + libpam baseline)", "permit", opaque, None),
        ("userinfo over HTTPS, ca_file = the one CA", "userinfo", opaque, None),
        ("userinfo over HTTPS, ca_file = system-size bundle", "userinfo_big_bundle", opaque, None),
        ("userinfo, verdict from the cache (cache_ttl)", "userinfo_cached", opaque, None),
        ("introspect over HTTPS", "introspect", opaque, None),
        ("jwt, JWKS fetched (cold cache)", "jwt", jwt, clear_cache),
        ("jwt, JWKS from the disk cache", "jwt", jwt, None),
    ]
    print(f"{options.runs} logins each, fresh process per login (ms)\n")
    print(f"| {'configuration':52} | wall p50 | wall p95 | module p50 | module p95 |")
    print(f"|{'-' * 54}|---------:|---------:|-----------:|-----------:|")
    try:
        for title, service, token, before in cases:
            names = [f"{service}{index}" for index in range(len(modules))]
            try:
                results = measure(driver, confdir, names, "alice", token, options.runs, before)
            except RuntimeError as failure:
                print(f"| {title:52} | skipped: {str(failure)[:60]} |", flush=True)
                continue
            for index, (walls, inside) in enumerate(results):
                label = title if index == 0 else "  the other build"
                module_cols = (f"{statistics.median(inside):10.1f} | {percentile(inside, 0.95):10.1f}" if inside
                               else f"{'-':>10} | {'-':>10}")
                print(f"| {label:52} | {statistics.median(walls):8.1f} | {percentile(walls, 0.95):8.1f} | "
                      f"{module_cols} |", flush=True)
    finally:
        idp.stop()
        workspace.remove()
        shutil.rmtree(confdir)


if __name__ == "__main__":
    main()
