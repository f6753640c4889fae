#!/usr/bin/env python3
"""One table of logins through every front end: each must write the same decision line.

The module goes through the real libpam (pam_driver), in-process and through a real pam_oauth2d (the
`broker` argument); pam_oauth2_check reads the same arguments, user and token; all ask the scripted
loopback identity provider. Lines are compared with `ms=` (time)
and `rhost=` (pam_oauth2_check has no remote host) dropped. A front is one function in FRONTS.

    test_same_line.py --module pam_oauth2.so --driver pam_driver --check pam_oauth2_check --daemon pam_oauth2d
"""

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pam_harness  # noqa: E402

MODULE = DRIVER = CHECK = DAEMON_BINARY = None
IDP = WORKDIR = DAEMON = None


def setUpModule():
    global IDP, WORKDIR, DAEMON
    IDP = pam_harness.Server()
    WORKDIR = tempfile.mkdtemp(prefix="pam_oauth2_same_line_")
    os.chmod(WORKDIR, 0o755)  # the daemon (nobody) reads conf files in here
    DAEMON = pam_harness.Daemon(DAEMON_BINARY, allow_hosts=f"127.0.0.1:{IDP.port}")


def tearDownModule():
    DAEMON.stop()
    IDP.stop()
    shutil.rmtree(WORKDIR)


def decision_line(output):
    """The one decision line in a front's output, without its prefix, ms= and rhost=."""
    lines = [line[line.index("result="):] for line in output.splitlines() if "result=" in line]
    if len(lines) != 1:
        raise AssertionError(f"expected one decision line, got {lines!r} in:\n{output}")
    return re.sub(r" rhost=\S+| ms=\d+$", "", lines[0])


def through_module(args, user, token):
    service = pam_harness.PamService(MODULE, args)
    try:
        _, _, log, _ = pam_harness.run_driver(DRIVER, service, user, token)
    finally:
        service.remove()
    return decision_line(log)


def through_check(args, user, token):
    done = subprocess.run([CHECK, user, *args], input=token + "\n", capture_output=True, text=True, timeout=60)
    return decision_line(done.stderr)


def through_broker(args, user, token):
    return through_module([*args, f"broker={DAEMON.socket}", "broker_fallback=deny"], user, token)


FRONTS = {"module": through_module, "broker": through_broker, "pam_oauth2_check": through_check}


def conf_file(text):
    path = os.path.join(WORKDIR, f"pam_oauth2-{secrets.token_hex(4)}.conf")
    with open(path, "w") as f:
        f.write(text)
    # Readable by the daemon's group too, as docs/broker.md sets conf files up.
    shutil.chown(path, "root", "nogroup")
    os.chmod(path, 0o640)
    return path


def cases():
    """name -> (arguments, user, token, the result word the line must carry)."""
    userinfo = ["log=stderr", "cache_ttl=0", "allow_http", f"userinfo_url=http://127.0.0.1:{IDP.port}/userinfo"]
    nonce = secrets.token_hex(6)
    broken = conf_file("userinfo_url = https://idp.invalid/u\nno_such_key = 1\n")
    return {
        "granted": (userinfo, "alice", f"user-alice~{nonce}", "granted"),
        "refused": (userinfo, "alice", f"user-bob~{nonce}", "denied"),
        "refused before verifying": (userinfo, "root", f"user-root~{nonce}", "denied"),
        "unavailable": (userinfo, "alice", f"status-503~{nonce}", "unavailable"),
        "configuration error from arguments": (["log=stderr", "group=dba"], "alice", f"user-alice~{nonce}", "config_error"),
        "configuration error from a file": (["log=stderr", f"conf={broken}"], "alice", f"user-alice~{nonce}", "config_error"),
    }


class SameLine(unittest.TestCase):
    def test_every_front_writes_the_same_line(self):
        for name, (args, user, token, result) in cases().items():
            with self.subTest(name):
                lines = {front: run(args, user, token) for front, run in FRONTS.items()}
                first = next(iter(lines.values()))
                self.assertTrue(first.startswith(f"result={result} "), lines)
                for front, line in lines.items():
                    self.assertEqual(line, first, f"{front} differs: {lines}")
                self.assertNotIn(token.split("~")[-1], first)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--driver", required=True)
    parser.add_argument("--check", required=True)
    parser.add_argument("--daemon", required=True)
    options, rest = parser.parse_known_args()
    MODULE, DRIVER, CHECK, DAEMON_BINARY = (os.path.abspath(path) for path in
                                            (options.module, options.driver, options.check, options.daemon))
    unittest.main(argv=[sys.argv[0], *rest])
