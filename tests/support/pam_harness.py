"""Shared helpers for tests that drive pam_oauth2.so through libpam: scripted identity provider
processes, generated PAM service directories, and the pam_driver program."""

import os
import socket
import struct
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


# A host-only allow_hosts entry means port 443: a suite sets its loopback identity provider's
# host:port here once it listens. Every conf= file of the suites lies below the temporary directory
# and the logins run as root, so that is the default binding (conf_users).
DEFAULT_ALLOW_HOSTS = "127.0.0.1:443"
DEFAULT_CONF_USERS = f"conf_users = {tempfile.gettempdir()}/ root"


class Daemon:
    """pam_oauth2d on a socket in a private directory, stopped by the pid we started.

    Started as root it drops to `user` after listening, as under a service manager; with `as_user`
    the whole process runs as that user from the start (so the socket belongs to it)."""

    def __init__(self, binary, allow_users="root", allow_hosts=None, extra="", user="nobody", as_user=None,
                 conf_users=None):
        self.conf_users = DEFAULT_CONF_USERS if conf_users is None else conf_users
        self.dir = tempfile.mkdtemp(prefix="pam_oauth2d_")
        os.chmod(self.dir, 0o755)
        socket_dir = self.dir
        if as_user:
            socket_dir = os.path.join(self.dir, "run")
            os.mkdir(socket_dir)
            import pwd
            entry = pwd.getpwnam(as_user)
            os.chown(socket_dir, entry.pw_uid, entry.pw_gid)
        self.socket = os.path.join(socket_dir, "broker.sock")
        self.config = os.path.join(self.dir, "pam_oauth2d.conf")
        self.write_config(allow_users, allow_hosts, extra, user)
        self.log_path = os.path.join(self.dir, "daemon.log")
        command = [binary, "--config", self.config]
        if as_user:
            command = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}" if as_user != "nobody" else "--regid=nogroup",
                       "--clear-groups", *command]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(command, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"pam_oauth2d did not start: {self.log()}")
            time.sleep(0.02)

    def write_config(self, allow_users, allow_hosts, extra="", user="nobody"):
        with open(self.config + ".new", "w") as f:
            f.write(f"socket = {self.socket}\nuser = {user}\nallow_users = {allow_users}\n"
                    f"allow_hosts = {allow_hosts or DEFAULT_ALLOW_HOSTS}\nconf_dirs = {tempfile.gettempdir()}\n"
                    f"{self.conf_users}\n{extra}\n")
        os.chmod(self.config + ".new", 0o644)
        os.rename(self.config + ".new", self.config)

    def reload(self, allow_users, allow_hosts=None, extra=""):
        self.write_config(allow_users, allow_hosts, extra)
        before = self.log().count("configuration reloaded")
        self.process.send_signal(1)  # SIGHUP
        deadline = time.monotonic() + 10
        while self.log().count("configuration reloaded") == before:
            if time.monotonic() > deadline:
                raise AssertionError(f"pam_oauth2d did not reload: {self.log()}")
            time.sleep(0.02)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)


def frame(kind, fields):
    """One frame of the broker wire format (pam_oauth2/protocol/broker_protocol.h): a type, then
    (tag, bytes) fields."""
    body = bytes([kind]) + b"".join(bytes([tag]) + struct.pack(">I", len(value)) + value for tag, value in fields)
    return b"PO2\x02" + struct.pack(">I", len(body)) + body


def broker_request(socket_path, kind, fields, timeout=60):
    """One request on its own connection, as the module sends it (each connection carries one request
    and its answer); the answer's body."""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(timeout)
        conn.connect(socket_path)
        conn.sendall(frame(kind, fields))
        return read_frame(conn)


def broker_login(socket_path, args, user, token, service=b"harness", timeout=60):
    """PREPARE, then VERIFY on a second connection, both with the module arguments and the service;
    the VERIFY answer's body (its first byte is the type: 4 for VERDICT)."""
    context = [(1, arg.encode()) for arg in args] + [(2, service)]
    broker_request(socket_path, 1, context, timeout)
    return broker_request(socket_path, 3, context + [(3, user.encode()), (4, b"127.0.0.1"), (5, token)], timeout)


def _read_exactly(conn, length):
    data = b""
    while len(data) < length:
        chunk = conn.recv(length - len(data))
        if not chunk:
            raise AssertionError("pam_oauth2d closed the connection")
        data += chunk
    return data


def read_frame(conn):
    """The body of the next frame on `conn`."""
    header = _read_exactly(conn, 8)
    return _read_exactly(conn, struct.unpack(">I", header[4:])[0])
