"""Real parts for end-to-end runs, each started on loopback and stopped by the pid we started:
a test CA, the oidc-provider test identity provider, a throwaway PostgreSQL 15 cluster, a PAM
service file under /etc/pam.d, and pgbouncer. Used by test_postgres.py and demo.py."""

import base64
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import test_ca  # noqa: E402

PG_BIN = "/usr/lib/postgresql/15/bin"
SERVICE_USER = "postgres"  # the unprivileged OS user PostgreSQL and pgbouncer run as
# pam_oauth2d's user in these runs: the package's pam_oauth2 user when it is installed, else nobody.
DAEMON_USER, DAEMON_GROUP = ("pam_oauth2", "pam_oauth2") if os.path.exists("/usr/sbin/pam_oauth2d") else ("nobody",
                                                                                                       "nogroup")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Workspace:
    """A private temporary directory readable by the service user (module, CA, cluster live here)."""

    def __init__(self, module_path):
        self.dir = tempfile.mkdtemp(prefix="pam_oauth2_e2e_")
        os.chmod(self.dir, 0o755)
        self.ca = test_ca.make_ca(self.dir)
        self.cert, self.key = test_ca.make_server_cert(self.dir, self.ca)
        os.chmod(self.ca, 0o644)
        if os.sep in module_path:
            # PostgreSQL loads the module as the service user; a copy here does not depend on who can
            # read the build tree.
            self.module = os.path.join(self.dir, "pam_oauth2.so")
            shutil.copy(module_path, self.module)
            os.chmod(self.module, 0o755)
            # The verifier and the HTTP transport helper the module loads from beside itself.
            for helper in ("pam_oauth2_inprocess.so", "pam_oauth2_transport.so"):
                shutil.copy(os.path.join(os.path.dirname(module_path), helper), self.dir)
                os.chmod(os.path.join(self.dir, helper), 0o755)
        else:
            self.module = module_path  # installed: libpam finds it in the system's PAM directory
        # The module's JWKS cache root; it creates a private <uid> directory inside.
        self.cache_dir = self.path("cache")
        os.makedirs(self.cache_dir)
        os.chmod(self.cache_dir, 0o1733)

    def write_conf(self, name, text, group=None):
        """A conf= file as a package would install it: root-owned, readable by one group only (the
        service user's by default; pam_oauth2d's for files the daemon reads)."""
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        gid = grp.getgrnam(group).gr_gid if group else pwd.getpwnam(SERVICE_USER).pw_gid
        os.chown(path, 0, gid)
        os.chmod(path, 0o640)
        return path

    def write_map(self, name, text):
        """A username_map file as root would install it (root-owned, 0644)."""
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text + "\n")
        os.chmod(path, 0o644)
        return path

    def path(self, name):
        return os.path.join(self.dir, name)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def start_provider():
    """A workspace without a module (the CA, the provider's certificate, a cache directory) and the
    test identity provider running in it, for suites that need no PostgreSQL. Stop both with
    stop_provider()."""
    workspace = Workspace("pam_oauth2.so")
    try:
        return workspace, OidcProvider(workspace)
    except BaseException:
        workspace.remove()
        raise


def stop_provider(workspace, idp):
    if idp is not None:
        idp.stop()
    workspace.remove()


class OidcProvider:
    """tests/e2e/idp/idp.js (oidc-provider) over HTTPS with the workspace CA."""

    def __init__(self, workspace):
        self.workspace = workspace
        self.log_path = workspace.path("idp.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            ["node", os.path.join(HERE, "idp", "idp.js"), "--cert", workspace.cert, "--key", workspace.key],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline().split()
        if len(line) != 2 or line[0] != "ready":
            self.stop()
            raise RuntimeError("identity provider did not start; see " + self.log_path)
        self.issuer = line[1]
        self.userinfo_url = self.issuer + "/me"
        self.introspection_url = self.issuer + "/token/introspection"
        self.jwks_url = self.issuer + "/jwks"
        self._tls = ssl.create_default_context(cafile=workspace.ca)

    def _post(self, path, fields, client=("psql", "psql-secret")):
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.issuer + path, data=data)
        credentials = base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()
        request.add_header("Authorization", "Basic " + credentials)
        with urllib.request.urlopen(request, context=self._tls, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else {}

    def mint(self, username, scope="openid profile groups", ttl=None, resource=None):
        """A real access token of this provider for `username` (opaque unless `resource` is given)."""
        fields = {"grant_type": "urn:pam-oauth2:test:mint", "username": username, "scope": scope}
        if ttl is not None:
            fields["ttl"] = str(ttl)
        if resource is not None:
            fields["resource"] = resource
        return self._post("/token", fields)["access_token"]

    def revoke(self, token):
        self._post("/token/revocation", {"token": token, "token_type_hint": "access_token"})

    def approve_device(self, user_code, username=None, deny=False):
        """What a person does at the verification page: approve the sign-in as `username`, or deny it."""
        fields = {"user_code": user_code, "deny": "1"} if deny else {"user_code": user_code, "username": username}
        request = urllib.request.Request(self.issuer + "/test/device/approve",
                                         data=urllib.parse.urlencode(fields).encode())
        with urllib.request.urlopen(request, context=self._tls, timeout=10) as answer:
            return answer.status

    def device_polls(self):
        """Every device-code poll so far: [{client, at_ms, error}]."""
        with urllib.request.urlopen(self.issuer + "/test/device/polls", context=self._tls, timeout=10) as answer:
            return json.loads(answer.read())

    def revoke_refresh_token(self, token, client_id):
        """Revokes a public client's refresh token, as the provider's admin would."""
        data = urllib.parse.urlencode({"token": token, "token_type_hint": "refresh_token",
                                       "client_id": client_id}).encode()
        with urllib.request.urlopen(urllib.request.Request(self.issuer + "/token/revocation", data=data),
                                    context=self._tls, timeout=10) as answer:
            return answer.status

    def pause(self):
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        stop_process(self.process)
        self.process.stdout.close()
        self.log.close()


class TokenHelper:
    """pam_oauth2_token signing in at this provider, with a private HOME (its cache and profiles).
    A sign-in it shows is approved (or denied) through the provider's test route, as a person would
    at the verification page."""

    RESOURCE = "urn:pam-oauth2:postgres"  # the provider's name for the postgres audience

    def __init__(self, binary, idp, workspace, client="pg-cli"):
        self.idp = idp
        self.home = tempfile.mkdtemp(prefix="pam_oauth2_token_home_")
        os.chmod(self.home, 0o700)
        self.env = dict(os.environ, HOME=self.home, XDG_CACHE_HOME=os.path.join(self.home, ".cache"),
                        XDG_CONFIG_HOME=os.path.join(self.home, ".config"))
        self.env.pop("PGPASSWORD", None)
        # No graphical session or $BROWSER of the machine's: --flow auto picks the device flow here.
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
            self.env.pop(name, None)
        # Recipes call the helper by name, as a person's PATH would find it.
        self.env["PATH"] = os.path.dirname(os.path.abspath(binary)) + os.pathsep + os.environ.get("PATH", "")
        self.workspace = workspace
        self.client = client
        self.command = [binary, "--issuer", idp.issuer, "--client-id", client, "--resource", self.RESOURCE,
                        "--ca-file", workspace.ca]

    def write_profile(self, name, store="file"):
        """[profile NAME] in ~/.config/pam_oauth2/token.conf for this provider and client."""
        directory = os.path.join(self.home, ".config", "pam_oauth2")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        path = os.path.join(directory, "token.conf")
        with open(path, "a") as f:
            f.write(f"[profile {name}]\nissuer = {self.idp.issuer}\nclient_id = {self.client}\n"
                    f"resource = {self.RESOURCE}\nca_file = {self.workspace.ca}\nstore = {store}\n")
        os.chmod(path, 0o600)
        return path

    def run(self, *args, approve_as=None, deny=False, before_answer=None, timeout=60, base=True):
        """Runs the helper. When it shows a code: `before_answer()` (if given), then approve as
        `approve_as` or deny. Returns (exit code, stdout, stderr, user code shown or None)."""
        process = subprocess.Popen((self.command if base else self.command[:1]) + list(args),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=self.env)
        seen = []
        codes = []
        shown = threading.Event()

        def read_stderr():
            for line in process.stderr:
                seen.append(line)
                if "enter the code " in line and not codes:
                    codes.append(line.rsplit(" ", 1)[1].strip())
                    shown.set()
            shown.set()

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        try:
            shown.wait(timeout)
            if codes and (approve_as or deny):
                if before_answer:
                    before_answer()
                self.idp.approve_device(codes[0], approve_as, deny)
            out = process.stdout.read()
            process.wait(timeout=timeout)
            reader.join(timeout=timeout)
        except BaseException:
            stop_process(process)
            raise
        finally:
            process.stdout.close()
            process.stderr.close()
        return process.returncode, out, "".join(seen), codes[0] if codes else None

    def cache_files(self):
        directory = os.path.join(self.home, ".cache", "pam_oauth2")
        return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".json")) \
            if os.path.isdir(directory) else []

    def remove(self):
        shutil.rmtree(self.home, ignore_errors=True)


def stop_process(process):
    """Stops a process we started, by its pid: SIGCONT (in case it was paused), SIGTERM, then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_as_service_user(args, **kwargs):
    done = subprocess.run(["runuser", "-u", SERVICE_USER, "--", *args], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def make_service_dir(path):
    os.makedirs(path)
    service_user = pwd.getpwnam(SERVICE_USER)
    os.chown(path, service_user.pw_uid, service_user.pw_gid)
    os.chmod(path, 0o700)


class PostgresCluster:
    """A throwaway PostgreSQL 15 cluster: initdb as the service user, own port and socket directory,
    TCP on 127.0.0.1 authenticated by PAM service `pam_service`."""

    def __init__(self, workspace, pam_service):
        self.workspace = workspace
        self.data = workspace.path("pgdata")
        self.socket_dir = workspace.path("pgsocket")
        self.log_path = workspace.path("postgresql.log")
        self.port = free_port()
        make_service_dir(self.socket_dir)
        make_service_dir(self.data)
        service_user = pwd.getpwnam(SERVICE_USER)
        run_as_service_user([f"{PG_BIN}/initdb", "-D", self.data, "-A", "peer", "--no-sync", "-E", "UTF8"])
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all postgres peer\n")
            f.write(f"host all all 127.0.0.1/32 pam pamservice={pam_service}\n")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.socket_dir}'\n"
                    "fsync = off\nlog_connections = on\n")
        open(self.log_path, "w").close()
        os.chown(self.log_path, service_user.pw_uid, service_user.pw_gid)
        run_as_service_user([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "start"])

    def admin_sql(self, sql):
        """Runs SQL as the postgres superuser over the private socket (peer authentication)."""
        return run_as_service_user(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir, "-p",
                                    str(self.port), "-d", "postgres", "-Atc", sql]).stdout

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        try:
            run_as_service_user([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"])
        except RuntimeError:
            pass


def psql(port, user, token, sql, extra_env=None, timeout=30):
    """Real psql over TCP with PGPASSWORD=token; returns (returncode, stdout, stderr, seconds)."""
    env = dict(os.environ, PGPASSWORD=token, PGCONNECT_TIMEOUT="20")
    env.update(extra_env or {})
    started = time.monotonic()
    done = subprocess.run(["psql", "-X", "-w", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", "postgres",
                           "-Atc", sql], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout.strip(), done.stderr.strip(), time.monotonic() - started


class PamServiceFile:
    """/etc/pam.d/<name> for the duration of a run; an existing file is never overwritten."""

    def __init__(self, name, module, args):
        self.path = os.path.join("/etc/pam.d", name)
        if os.path.exists(self.path):
            raise RuntimeError(f"{self.path} exists already; refusing to overwrite it")
        self.write(module, args)

    def write(self, module, args, control="required"):
        with open(self.path, "w") as f:
            f.write("# written by a pam_oauth2 test or demo run; removed when it ends\n")
            f.write(f"auth    {control} {module} {' '.join(args)}\n")
            f.write(f"account required {module} log=stderr\n")

    def remove(self):
        if os.path.exists(self.path):
            os.unlink(self.path)


class SystemTrust:
    """The workspace CA in the system trust store (/etc/ssl/certs) while a test needs a configuration
    without ca_file; removed again, and the store rebuilt, when it ends."""

    def __init__(self, workspace):
        self.path = f"/usr/local/share/ca-certificates/pam-oauth2-test-{os.getpid()}.crt"
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        shutil.copy(workspace.ca, self.path)
        subprocess.run(["update-ca-certificates"], check=True, capture_output=True)

    def remove(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        subprocess.run(["update-ca-certificates", "--fresh"], check=True, capture_output=True)


class PgBouncer:
    """pgbouncer with auth_type = pam (its PAM service name is always `pgbouncer`) in front of a cluster."""

    def __init__(self, workspace, cluster):
        self.port = free_port()
        self.log_path = workspace.path("pgbouncer.log")
        config = workspace.path("pgbouncer.ini")
        with open(config, "w") as f:
            f.write(f"[databases]\npostgres = host=127.0.0.1 port={cluster.port} dbname=postgres\n\n"
                    f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {self.port}\nauth_type = pam\n"
                    f"unix_socket_dir =\npool_mode = session\nlogfile = {self.log_path}\n")
        os.chmod(config, 0o644)
        open(self.log_path, "w").close()
        service_user = pwd.getpwnam(SERVICE_USER)
        os.chown(self.log_path, service_user.pw_uid, service_user.pw_gid)
        self.stderr_path = workspace.path("pgbouncer.stderr")
        self.stderr = open(self.stderr_path, "w")
        # Started directly as the service user (not through runuser) so the pid we hold is pgbouncer's.
        self.process = subprocess.Popen(["pgbouncer", config], stdout=self.stderr, stderr=self.stderr,
                                        user=service_user.pw_uid, group=service_user.pw_gid, extra_groups=[],
                                        cwd=workspace.dir)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("pgbouncer did not start; see " + self.stderr_path)

    def module_log(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def stop(self):
        stop_process(self.process)
        self.stderr.close()


class Broker:
    """pam_oauth2d for the cluster's service user (and root, for pamtester), started as root and
    dropping to DAEMON_USER as it would under a service manager; stopped by the pid we started."""

    def __init__(self, workspace, binary, allow_hosts):
        self.dir = os.path.join(workspace.dir, f"broker-{len(os.listdir(workspace.dir))}")
        os.mkdir(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "pam_oauth2d.sock")
        config = os.path.join(self.dir, "pam_oauth2d.conf")
        with open(config, "w") as f:
            f.write(f"socket = {self.socket}\nuser = {DAEMON_USER}\nallow_users = root, {SERVICE_USER}\n"
                    f"allow_hosts = {allow_hosts}\nconf_dirs = {workspace.dir}\n"
                    f"conf_users = {workspace.dir}/ root, {SERVICE_USER}\n")
        os.chmod(config, 0o644)
        self.log_path = os.path.join(self.dir, "pam_oauth2d.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([binary, "--config", config], stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("pam_oauth2d did not start: " + self.log_text())
            time.sleep(0.02)

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self):
        stop_process(self.process)
        self.log.close()
