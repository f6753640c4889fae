"""Shared helpers for tests that drive pam_oauth2.so through libpam: scripted identity provider
processes, generated PAM service directories, and the pam_driver program."""

import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Server:
    """A scripted_idp.py process on a free loopback port, stopped by the pid we started."""

    def __init__(self, tls=None):
        args = [sys.executable, os.path.join(HERE, "scripted_idp.py")]
        if tls:
            args += ["--tls", *tls]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()


def free_port():
    """A loopback port nobody listens on (for connection-refused cases)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PamService:
    """A PAM service file in a private directory, for pam_start_confdir."""

    def __init__(self, module, args, name="pam_oauth2_test"):
        self.dir = tempfile.mkdtemp(prefix="pam_oauth2_svc_")
        self.name = name
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(f"auth    required {module} {' '.join(args)}\n")
            f.write(f"account required {module} log=stderr\n")

    def remove(self):
        os.unlink(os.path.join(self.dir, self.name))
        os.rmdir(self.dir)


def run_driver(driver, service, user, token, extra=(), timeout=60):
    """Runs one authenticate + acct_mgmt cycle; returns (auth code, acct code, stderr, seconds)."""
    env = dict(os.environ, PAM_OAUTH2_TEST_TOKEN=token)
    started = time.monotonic()
    done = subprocess.run([driver, service.dir, service.name, user, *extra], env=env, capture_output=True,
                          text=True, timeout=timeout)
    elapsed = time.monotonic() - started
    # The driver exits 0 whatever PAM answered; anything else is a crash or a sanitizer report.
    if done.returncode != 0:
        raise AssertionError(f"pam_driver exited {done.returncode}: {done.stderr[-3000:]}")
    fields = dict(part.split("=", 1) for part in done.stdout.split())
    return fields.get("authenticate"), fields.get("acct_mgmt"), done.stderr, elapsed
