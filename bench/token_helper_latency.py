#!/usr/bin/env python3
"""What a call of pam_oauth2_token costs, side by side in one run: a process that does nothing
(/bin/true), the helper's --version (start-up alone), a call answered from the kept access token,
and a call that refreshes (--min-valid 3600). Medians of --calls calls, --rounds interleaved rounds,
against the test identity provider on loopback (one device-flow sign-in, approved by the script).

    token_helper_latency.py build/tools/pam_oauth2_token [--calls 30] [--rounds 3]
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import fixtures  # noqa: E402


def median_ms(command, env, calls):
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True)
        samples.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0:
            raise RuntimeError(f"{command} failed: {done.stderr.decode()}")
    samples.sort()
    return samples[len(samples) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("helper")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    workspace, idp = fixtures.start_provider()
    helper = None
    try:
        helper = fixtures.TokenHelper(options.helper, idp, workspace)
        code, _, err, _ = helper.run("--store", "file", approve_as="alice")
        if code != 0:
            raise RuntimeError("sign-in failed: " + err)
        rows = {"/bin/true": ["/bin/true"], "pam_oauth2_token --version": [helper.command[0], "--version"],
                "kept access token": helper.command + ["--store", "file"],
                "refresh (--min-valid 3600)": helper.command + ["--store", "file", "--min-valid", "3600"]}
        results = {name: [] for name in rows}
        for _ in range(options.rounds):
            for name, command in rows.items():
                results[name].append(median_ms(command, helper.env, options.calls))
        print(f"| call | median ms per round ({options.calls} calls each) |\n|---|---|")
        for name, values in results.items():
            print(f"| {name} | {' / '.join(f'{v:.1f}' for v in values)} |")
        helper.run("--store", "file", "--logout")
    finally:
        if helper is not None:
            helper.remove()
        fixtures.stop_provider(workspace, idp)


if __name__ == "__main__":
    main()
