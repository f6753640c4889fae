"""redis-server on loopback for the tests: started on a free port, stopped by the pid we started.
Shared by tests/redis/test_redis.py, tests/broker/test_broker.py and tests/broker/test_fleet.py."""

import os
import signal
import socket
import subprocess
import time

BINARY = "/usr/bin/redis-server"
# The ACL user `cache`'s password in servers started with acl=True.
PASSWORD = "correct-horse-battery-staple-7f3a"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def issue_cert(directory, ca_pem, stem, san, usage):
    """A leaf certificate for `san` signed by the CA at ca_pem; returns (cert, key)."""
    ca_key = ca_pem[:-4] + ".key"

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{stem}.key",
            "-out", f"{stem}.csr", "-subj", f"/CN={stem}")
    with open(os.path.join(directory, f"{stem}.ext"), "w") as f:
        f.write(f"subjectAltName={san}\nextendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", f"{stem}.csr", "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
            "-out", f"{stem}.pem", "-days", "2", "-extfile", f"{stem}.ext")
    return os.path.join(directory, f"{stem}.pem"), os.path.join(directory, f"{stem}.key")


class RedisServer:
    """One redis-server on loopback: a plain port, optionally a TLS port; ACL users from a file."""

    def __init__(self, directory, name, tls=None, client_certs=False, acl=True, extra=(), port=None, admin=False):
        self.dir = os.path.join(directory, name)
        os.makedirs(self.dir)
        self.port = port or free_port()
        args = [BINARY, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--daemonize", "no", "--logfile", "redis.log", *extra]
        if acl:
            acl_file = os.path.join(self.dir, "users.acl")
            with open(acl_file, "w") as f:
                # The cache's user: its prefix only, and only the commands it sends.
                f.write("user default off\n"
                        f"user cache on >{PASSWORD} ~po2:* resetchannels -@all +get +set +del +ping +select\n")
                if admin:  # for a test that inspects what the cache wrote
                    f.write(f"user admin on >{PASSWORD} ~* &* +@all\n")
            args += ["--aclfile", acl_file]
        self.tls_port = None
        if tls:
            cert, key, ca = tls
            self.tls_port = free_port()
            args += ["--tls-port", str(self.tls_port), "--tls-cert-file", cert, "--tls-key-file", key,
                     "--tls-ca-cert-file", ca, "--tls-auth-clients", "yes" if client_certs else "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self):
        for _ in range(200):
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited: " + self.log()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def command(self, inline):
        """One inline command over a plain socket (no ACL servers only); the raw reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(inline + b"\r\n")
            return s.recv(65536)

    def log(self):
        with open(os.path.join(self.dir, "redis.log")) as f:
            return f.read()

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Sentinel(RedisServer):
    """A redis-server --sentinel watching `primary_port` as mymaster (quorum 2, down after 1 s)."""

    def __init__(self, directory, name, primary_port):
        self.dir = os.path.join(directory, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.tls_port = None
        config = os.path.join(self.dir, "sentinel.conf")  # Sentinel rewrites its file: one each
        with open(config, "w") as f:
            f.write(f"port {self.port}\nbind 127.0.0.1\ndir {self.dir}\nlogfile redis.log\n"
                    f"sentinel monitor mymaster 127.0.0.1 {primary_port} 2\n"
                    "sentinel down-after-milliseconds mymaster 1000\n"
                    "sentinel failover-timeout mymaster 4000\n")
        self.process = subprocess.Popen([BINARY, config, "--sentinel"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        self._wait_ready()


def start_sentinel_group(directory, name):
    """A primary (no ACL), a replica in sync with it, and three Sentinels watching it as mymaster:
    (primary, replica, [sentinels])."""
    started = []
    try:
        primary = RedisServer(directory, f"{name}_primary", acl=False)
        started.append(primary)
        replica = RedisServer(directory, f"{name}_replica", acl=False,
                              extra=("--replicaof", "127.0.0.1", str(primary.port)))
        started.append(replica)
        # The replica in sync before the Sentinels first ask the primary for its replicas.
        deadline = time.monotonic() + 20
        while b"master_link_status:up" not in replica.command(b"INFO replication"):
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not sync: " + replica.log()[-1500:])
            time.sleep(0.1)
        sentinels = [Sentinel(directory, f"{name}_sentinel_{i}", primary.port) for i in range(3)]
        started.extend(sentinels)
    except BaseException:
        for server in started:
            server.stop()
        raise
    return primary, replica, sentinels


def free_cluster_port():
    """A free port whose cluster bus port (+10000) is free too."""
    for _ in range(100):
        port = free_port()
        if port + 10000 > 65535:
            continue
        try:
            with socket.socket() as bus:
                bus.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair for a cluster node")


def start_cluster(directory, name, count=3):
    """`count` masters in cluster mode (no ACL), the slots spread over them; the RedisServers."""
    nodes = []
    try:
        for i in range(count):
            nodes.append(RedisServer(directory, f"{name}_{i}", acl=False, port=free_cluster_port(),
                                     extra=("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                            "--cluster-node-timeout", "5000")))
        subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{n.port}" for n in nodes],
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 30
        while not all(b"cluster_state:ok" in n.command(b"CLUSTER INFO") for n in nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not form")
            time.sleep(0.1)
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return nodes
