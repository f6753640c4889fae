#!/usr/bin/env python3
"""What a call of pam_oauth2_token costs, side by side in one run: a process that does nothing
(/bin/true), the helper's --version (start-up alone), a call answered from the kept access token
(the default account and a named --account), --status, and a call that refreshes (--min-valid
3600). Each round runs the rows one call at a time in turn (call-level interleaving, so a noisy
neighbour hits every row alike); the median of --calls calls per row and round, --rounds rounds,
against the test identity provider on loopback (device-flow sign-ins approved by the script). The
last line is the kept-token call over /bin/true per round: the target is at most 3x.

    token_helper_latency.py build/tools/pam_oauth2_token [--calls 30] [--rounds 3]
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import fixtures  # noqa: E402


def once_ms(command, env):
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed: {done.stderr.decode()}")
    return elapsed


def interleaved_medians(rows, env, calls):
    samples = {name: [] for name in rows}
    for _ in range(calls):
        for name, command in rows.items():
            samples[name].append(once_ms(command, env))
    return {name: sorted(values)[len(values) // 2] for name, values in samples.items()}


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
        code, _, err, _ = helper.run("--store", "file", "--account", "bob", approve_as="bob")
        if code != 0:
            raise RuntimeError("sign-in of --account bob failed: " + err)
        rows = {"/bin/true": ["/bin/true"], "pam_oauth2_token --version": [helper.command[0], "--version"],
                "kept access token": helper.command + ["--store", "file"],
                "kept access token, --account bob": helper.command + ["--store", "file", "--account", "bob"],
                "--status": helper.command + ["--store", "file", "--status"],
                "refresh (--min-valid 3600)": helper.command + ["--store", "file", "--min-valid", "3600"]}
        results = {name: [] for name in rows}
        for _ in range(options.rounds):
            for name, value in interleaved_medians(rows, helper.env, options.calls).items():
                results[name].append(value)
        print(f"| call | median ms per round ({options.calls} calls each) |\n|---|---|")
        for name, values in results.items():
            print(f"| {name} | {' / '.join(f'{v:.1f}' for v in values)} |")
        ratios = [kept / true for kept, true in zip(results["kept access token"], results["/bin/true"])]
        print(f"| kept access token / /bin/true | {' / '.join(f'{r:.1f}x' for r in ratios)} (target <= 3x) |")
        helper.run("--store", "file", "--logout", "--all")
    finally:
        if helper is not None:
            helper.remove()
        fixtures.stop_provider(workspace, idp)


if __name__ == "__main__":
    main()
