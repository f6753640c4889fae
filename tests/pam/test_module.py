#!/usr/bin/env python3
"""pam_oauth2.so through the real libpam (pam_start_confdir via pam_driver) against a scripted
loopback identity provider, over HTTP and over HTTPS with a CA generated here.

    test_module.py --module build/pam_oauth2/pam_oauth2.so --driver build/tests/pam_driver [--suite functional|soak|valgrind]
"""

import argparse
import hashlib
import json
import os
import secrets
import shutil
import socket
import stat
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pam_harness  # noqa: E402
import scripted_idp  # noqa: E402
import test_ca  # noqa: E402

MODULE = DRIVER = None
WRONG_STAMP = None  # a stand-in verifier and transport built with another ABI stamp
SUCCESS, AUTH_ERR, UNAVAIL, SERVICE_ERR = "PAM_SUCCESS", "PAM_AUTH_ERR", "PAM_AUTHINFO_UNAVAIL", "PAM_SERVICE_ERR"

# Every token any case sends, and every log line any case produced: checked at the end.
TOKENS_USED = set()
LOG_OUTPUT = []


def setUpModule():
    global WORKDIR, CA, OTHER_CA, HTTP, HTTPS
    WORKDIR = tempfile.mkdtemp(prefix="pam_oauth2_test_")
    CA = test_ca.make_ca(WORKDIR)
    OTHER_CA = test_ca.make_ca(WORKDIR, "unrelated CA")
    cert, key = test_ca.make_server_cert(WORKDIR, CA)
    HTTP = pam_harness.Server()
    HTTPS = pam_harness.Server(tls=(cert, key))


def tearDownModule():
    HTTP.stop()
    HTTPS.stop()
    shutil.rmtree(WORKDIR)


def tok(kind):
    """A scripted token made unique with a nonce, so the log scan can look for it."""
    return f"{kind}~{secrets.token_hex(8)}"


def http_url(path="/userinfo"):
    return f"userinfo_url=http://127.0.0.1:{HTTP.port}{path}"


def authenticate(args, user, token, extra=()):
    # Every case asks the identity provider unless it tests the verdict cache on purpose.
    defaults = [] if any(arg.startswith("cache_") for arg in args) else ["cache_ttl=0"]
    service = pam_harness.PamService(MODULE, ["log=stderr", *defaults, *args])
    try:
        TOKENS_USED.add(token)
        auth, acct, log, seconds = pam_harness.run_driver(DRIVER, service, user, token, extra)
        LOG_OUTPUT.append(log)
        return auth, acct, log, seconds
    finally:
        service.remove()


def authenticate_raw(module, args, user, token):
    """One login with exactly these module arguments, in this order (no defaults put first)."""
    service = pam_harness.PamService(module, args)
    try:
        TOKENS_USED.add(token)
        auth, _, log, _ = pam_harness.run_driver(DRIVER, service, user, token)
        LOG_OUTPUT.append(log)
        return auth, log
    finally:
        service.remove()


def decision_lines(log):
    return [line for line in log.splitlines() if "result=" in line]


class UserinfoCases(unittest.TestCase):
    """The table of issue cases: each row asserts the exact PAM code and the log's reason."""

    def check(self, args, user, token, expected, reason_part, extra=()):
        auth, acct, log, seconds = authenticate(args, user, token, extra)
        self.assertEqual(auth, expected, log)
        lines = decision_lines(log)
        self.assertEqual(len(lines), 1, log)
        self.assertIn(reason_part, lines[0])
        if expected == SUCCESS:
            self.assertEqual(acct, SUCCESS)
        return lines[0], seconds

    def test_valid_token_right_user(self):
        line, _ = self.check([http_url(), "allow_http"], "alice", tok("user-alice"), SUCCESS, "result=granted")
        self.assertIn("user=alice method=userinfo token=sha256:", line)
        self.assertIn("rhost=127.0.0.1", line)

    def test_valid_token_other_user(self):
        self.check([http_url(), "allow_http"], "alice", tok("user-bob"), AUTH_ERR,
                   "claim preferred_username is 'bob', PAM user is 'alice'")

    def test_case_insensitive(self):
        self.check([http_url(), "allow_http"], "alice", tok("user-ALICE"), AUTH_ERR, "is 'ALICE'")
        self.check([http_url(), "allow_http", "case_insensitive"], "alice", tok("user-ALICE"), SUCCESS, "granted")

    def test_username_claim_option(self):
        self.check([http_url(), "allow_http", "username_claim=sub"], "id-alice", tok("user-alice"), SUCCESS, "granted")

    def test_401(self):
        self.check([http_url(), "allow_http"], "alice", tok("status-401"), AUTH_ERR, "refused the token (HTTP 401)")

    def test_403(self):
        self.check([http_url(), "allow_http"], "alice", tok("status-403"), AUTH_ERR, "refused the token (HTTP 403)")

    def test_500(self):
        self.check([http_url(), "allow_http"], "alice", tok("status-500"), UNAVAIL, "answered HTTP 500")

    def test_slow_beyond_timeout(self):
        _, seconds = self.check([http_url(), "allow_http", "timeout=1"], "alice", tok("slow-4"), UNAVAIL, "Timeout")
        self.assertLess(seconds, 2.0)

    def test_connection_refused(self):
        url = f"userinfo_url=http://127.0.0.1:{pam_harness.free_port()}/userinfo"
        self.check([url, "allow_http"], "alice", tok("user-alice"), UNAVAIL, "connect")

    def test_garbage_body(self):
        self.check([http_url(), "allow_http"], "alice", tok("garbage"), UNAVAIL, "not a JSON object")

    def test_json_array_body(self):
        self.check([http_url(), "allow_http"], "alice", tok("array"), UNAVAIL, "not a JSON object")

    def test_claim_missing(self):
        self.check([http_url(), "allow_http"], "alice", tok("no-claim"), AUTH_ERR, "claim preferred_username is missing")

    def test_claim_not_a_string(self):
        self.check([http_url(), "allow_http"], "alice", tok("number-claim"), AUTH_ERR, "is a number, not a string")

    def test_5_mib_body(self):
        self.check([http_url(), "allow_http"], "alice", tok("huge"), UNAVAIL, "larger than 1048576 bytes")

    def test_redirect_not_followed(self):
        self.check([http_url(), "allow_http"], "alice", tok("redirect"), UNAVAIL, "HTTP 302 (redirect not followed)")

    def test_https_untrusted_certificate(self):
        url = f"userinfo_url=https://127.0.0.1:{HTTPS.port}/userinfo"
        self.check([url, f"ca_file={OTHER_CA}"], "alice", tok("user-alice"), UNAVAIL, "certificate")
        self.check([url], "alice", tok("user-alice"), UNAVAIL, "certificate")

    def test_https_with_right_ca_file(self):
        url = f"userinfo_url=https://127.0.0.1:{HTTPS.port}/userinfo"
        self.check([url, f"ca_file={CA}"], "alice", tok("user-alice"), SUCCESS, "granted")
        self.check([f"userinfo_url=https://localhost:{HTTPS.port}/userinfo", f"ca_file={CA}"], "bob", tok("user-bob"),
                   SUCCESS, "granted")

    def test_https_with_ca_path(self):
        ca_dir = os.path.join(WORKDIR, "hashed")
        os.makedirs(ca_dir, exist_ok=True)
        shutil.copy(CA, ca_dir)
        import subprocess
        subprocess.run(["openssl", "rehash", ca_dir], check=True)
        url = f"userinfo_url=https://127.0.0.1:{HTTPS.port}/userinfo"
        self.check([url, f"ca_path={ca_dir}"], "alice", tok("user-alice"), SUCCESS, "granted")

    def test_empty_token(self):
        self.check([http_url(), "allow_http"], "alice", "", AUTH_ERR, "empty token")

    def test_null_conversation_answer(self):
        self.check([http_url(), "allow_http"], "alice", tok("user-alice"), AUTH_ERR, "no token received",
                   extra=["--null-answer"])

    def test_16_kib_token_arrives_whole(self):
        token = "pad-16384-"
        token += "a" * (16384 - len(token))
        self.check([http_url(), "allow_http"], "alice", token, SUCCESS, "granted")

    def test_16_kib_token_over_max_token_bytes(self):
        self.check([http_url(), "allow_http", "max_token_bytes=8192"], "alice", "a" * 16384, AUTH_ERR,
                   "more than max_token_bytes=8192")

    def test_token_outside_b64token(self):
        self.check([http_url(), "allow_http"], "alice", "user-alice extra", AUTH_ERR, "outside the RFC 6750")

    def test_cut_tokens_are_named(self):
        self.check([http_url(), "allow_http"], "alice", "x" * 2047, AUTH_ERR, "2047 bytes is a known client")
        jws_start = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"
        self.check([http_url(), "allow_http"], "alice", jws_start, AUTH_ERR, "looks cut by the client")

    def test_deny_users(self):
        self.check([http_url(), "allow_http"], "root", tok("user-root"), AUTH_ERR, "is in deny_users")
        self.check([http_url(), "allow_http"], "postgres", tok("user-postgres"), AUTH_ERR, "is in deny_users")
        self.check([http_url(), "allow_http", "deny_users="], "postgres", tok("user-postgres"), SUCCESS, "granted")

    def test_scope_and_groups_fail_closed_on_userinfo_without_them(self):
        self.check([http_url(), "allow_http", "groups=dba"], "alice", tok("user-alice"), AUTH_ERR, "none of the groups")
        self.check([http_url(), "allow_http", "scope=db"], "alice", tok("user-alice"), AUTH_ERR, "scope db is missing")
        self.check([http_url(), "allow_http", "require_claim=sub:id-alice"], "alice", tok("user-alice"), SUCCESS,
                   "granted")

    def test_seed_article_positional_form(self):
        # auth sufficient pam_oauth2.so <userinfo url> <username claim>, as please-openit/pam-oauth2 reads it.
        auth, log = authenticate_raw(MODULE, [f"http://127.0.0.1:{HTTP.port}/userinfo", "sub", "allow_http",
                                              "log=stderr", "cache_ttl=0"], "id-alice", tok("user-alice"))
        self.assertEqual(auth, SUCCESS, log)
        self.assertIn("method=userinfo", log)

    def test_unknown_option(self):
        self.check([http_url(), "allow_http", "group=dba"], "alice", tok("user-alice"), SERVICE_ERR,
                   "unknown option 'group'")

    def test_http_without_allow_http(self):
        self.check([http_url()], "alice", tok("user-alice"), SERVICE_ERR, "allow_http")

    def test_http_to_remote_host(self):
        self.check(["userinfo_url=http://192.0.2.1/userinfo", "allow_http"], "alice", tok("user-alice"), SERVICE_ERR,
                   "not loopback")

    def test_missing_userinfo_url(self):
        self.check([], "alice", tok("user-alice"), SERVICE_ERR, "needs userinfo_url")

    def test_malformed_timeout(self):
        self.check([http_url(), "allow_http", "timeout=fast"], "alice", tok("user-alice"), SERVICE_ERR, "option timeout")

    def test_client_secret_as_argument(self):
        self.check([http_url(), "allow_http", "client_secret=abc"], "alice", tok("user-alice"), SERVICE_ERR,
                   "not accepted as a module argument")

    def test_bracketed_prompt_argument(self):
        self.check([http_url(), "allow_http", "[prompt=Access token please: ]"], "alice", tok("user-alice"), SUCCESS,
                   "granted")


class TransportHelper(unittest.TestCase):
    """libcurl lives in pam_oauth2_transport.so, loaded only when a login needs the network."""

    def test_missing_helper_is_unavailable_with_a_clear_reason(self):
        lonely = os.path.join(WORKDIR, "lonely")
        os.makedirs(lonely, exist_ok=True)
        module = os.path.join(lonely, "pam_oauth2.so")
        shutil.copy(MODULE, module)
        shutil.copy(os.path.join(os.path.dirname(MODULE), "pam_oauth2_inprocess.so"), lonely)
        auth, log = authenticate_raw(module, ["log=stderr", http_url(), "allow_http"], "alice", tok("user-alice"))
        self.assertEqual(auth, UNAVAIL, log)
        self.assertIn("cannot load the HTTP transport", log)

    def test_missing_verifier_is_a_system_error_with_a_clear_reason(self):
        alone = os.path.join(WORKDIR, "alone")
        os.makedirs(alone, exist_ok=True)
        module = os.path.join(alone, "pam_oauth2.so")
        shutil.copy(MODULE, module)
        auth, log = authenticate_raw(module, ["log=stderr", http_url(), "allow_http"], "alice", tok("user-alice"))
        self.assertEqual(auth, "PAM_SYSTEM_ERR", log)
        self.assertIn("cannot load the verifier", log)
        self.assertIn("pam_oauth2_inprocess.so", log)

    def copy_with_wrong_stamp(self, folder, wrong):
        """pam_oauth2.so with this build's verifier and transport, but `wrong` from another build."""
        if WRONG_STAMP is None:
            self.skipTest("no --wrong-stamp module given")
        place = os.path.join(WORKDIR, folder)
        os.makedirs(place, exist_ok=True)
        module = os.path.join(place, "pam_oauth2.so")
        shutil.copy(MODULE, module)
        for name in ("pam_oauth2_inprocess.so", "pam_oauth2_transport.so"):
            shutil.copy(WRONG_STAMP if name == wrong else os.path.join(os.path.dirname(MODULE), name),
                        os.path.join(place, name))
        return module

    def test_transport_of_another_build_is_refused(self):
        module = self.copy_with_wrong_stamp("other_transport", "pam_oauth2_transport.so")
        auth, log = authenticate_raw(module, ["log=stderr", http_url(), "allow_http"], "alice", tok("user-alice"))
        self.assertEqual(auth, UNAVAIL, log)
        self.assertIn("the HTTP transport", log)
        self.assertIn("does not belong to this build of pam_oauth2.so (ABI stamp", log)

    def test_verifier_of_another_build_is_refused(self):
        module = self.copy_with_wrong_stamp("other_verifier", "pam_oauth2_inprocess.so")
        auth, log = authenticate_raw(module, ["log=stderr", http_url(), "allow_http"], "alice", tok("user-alice"))
        self.assertEqual(auth, "PAM_SYSTEM_ERR", log)
        self.assertIn("the verifier", log)
        self.assertIn("does not belong to this build of pam_oauth2.so (ABI stamp", log)

    def test_refusal_before_network_does_not_load_libcurl(self):
        service = pam_harness.PamService(MODULE, ["log=stderr", http_url(), "allow_http"])
        try:
            import subprocess
            env = dict(os.environ, PAM_OAUTH2_TEST_TOKEN="bad token", LD_DEBUG="files")
            done = subprocess.run([DRIVER, service.dir, service.name, "alice"], env=env, capture_output=True,
                                  text=True, timeout=60)
        finally:
            service.remove()
        self.assertIn("authenticate=PAM_AUTH_ERR", done.stdout)
        self.assertIn("pam_oauth2.so", done.stderr)
        self.assertNotIn("libcurl", done.stderr)


class SetuidHost(unittest.TestCase):
    """A setuid program using PAM (sudo, su) started by an unprivileged user with a hostile environment."""

    def test_environment_cannot_steer_the_transport(self):
        if os.geteuid() != 0 or os.environ.get("PAM_OAUTH2_TEST_SANITIZED") or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv; sanitizer runtimes do not run setuid")
        import subprocess
        directory = tempfile.mkdtemp(prefix="pam_oauth2_setuid_")
        service = pam_harness.PamService(MODULE, ["log=stderr", "cache_ttl=0", f"ca_file={CA}",
                                                  f"userinfo_url=https://127.0.0.1:{HTTPS.port}/userinfo"])
        try:
            os.chmod(directory, 0o755)  # nobody may run the driver from here but not write here
            driver = os.path.join(directory, "pam_driver")
            shutil.copy(DRIVER, driver)
            os.chown(driver, 0, 0)
            os.chmod(driver, 0o4755)
            keylog = os.path.join(directory, "keylog")
            token = tok("user-alice")
            TOKENS_USED.add(token)
            env = {"PATH": "/usr/bin:/bin", "PAM_OAUTH2_TEST_TOKEN": token, "SSLKEYLOGFILE": keylog,
                   "https_proxy": f"http://127.0.0.1:{pam_harness.free_port()}"}
            done = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", driver,
                                   service.dir, service.name, "alice"], env=env, capture_output=True, text=True,
                                  timeout=60)
            LOG_OUTPUT.append(done.stderr)
            # The login works (the transport runs in the setuid process), and root wrote no TLS secrets
            # where the unprivileged user asked.
            self.assertIn("authenticate=PAM_SUCCESS", done.stdout, done.stderr)
            self.assertFalse(os.path.exists(keylog), "SSLKEYLOGFILE was honoured in a setuid process")
        finally:
            service.remove()
            shutil.rmtree(directory)


class ConfFileAndIntrospection(unittest.TestCase):
    def conf(self, text, mode=0o640):
        path = os.path.join(WORKDIR, "pam_oauth2.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def introspect_conf(self, secret=scripted_idp.CLIENT_SECRET, mode=0o640):
        return self.conf(f"verify = introspect\nintrospection_url = http://127.0.0.1:{HTTP.port}/introspect\n"
                         f"client_id = {scripted_idp.CLIENT_ID}\nclient_secret = {secret}\nallow_http\n"
                         "audience = postgres\n", mode)

    def run_case(self, args, token, expected, reason_part, user="alice"):
        auth, _, log, _ = authenticate(args, user, token)
        self.assertEqual(auth, expected, log)
        self.assertIn(reason_part, log)
        self.assertNotIn(scripted_idp.CLIENT_SECRET, log)
        return log

    def test_introspection_active(self):
        self.run_case([f"conf={self.introspect_conf()}"], tok("user-alice"), SUCCESS, "method=introspect")

    def test_introspection_inactive(self):
        self.run_case([f"conf={self.introspect_conf()}"], tok("inactive"), AUTH_ERR, "not active")

    def test_introspection_answers_for_other_kinds_of_token_are_refused(self):
        conf = f"conf={self.introspect_conf()}"
        self.run_case([conf], tok("refresh-alice"), AUTH_ERR, "refresh token (typ Refresh)")
        self.run_case([conf], tok("idtoken-alice"), AUTH_ERR, "ID token (typ ID)")
        self.run_case([conf], tok("otheraud-alice"), AUTH_ERR, "audience postgres not in the token's aud")

    def test_introspect_needs_an_audience_unless_waived(self):
        path = self.conf(f"verify = introspect\nintrospection_url = http://127.0.0.1:{HTTP.port}/introspect\n"
                         f"client_id = {scripted_idp.CLIENT_ID}\nclient_secret = {scripted_idp.CLIENT_SECRET}\n"
                         "allow_http\n", 0o640)
        self.run_case([f"conf={path}"], tok("user-alice"), SERVICE_ERR, "verify=introspect needs audience")
        self.run_case([f"conf={path}", "allow_any_audience"], tok("otheraud-alice"), SUCCESS, "method=introspect")

    def test_introspection_wrong_client_secret(self):
        self.run_case([f"conf={self.introspect_conf(secret='wrong')}"], tok("user-alice"), UNAVAIL,
                      "refused client_id pg-test")

    def test_account_stage_sees_expiry_after_authentication(self):
        args = [f"conf={self.introspect_conf()}", "leeway=0"]
        auth, acct, log, _ = authenticate(args, "alice", tok("exp-in-1"), extra=["--acct-delay", "2"])
        self.assertEqual((auth, acct), (SUCCESS, "PAM_ACCT_EXPIRED"), log)
        self.assertIn("token expired after authentication", log)
        auth, acct, log, _ = authenticate(args, "alice", tok("exp-in-300"), extra=["--acct-delay", "1"])
        self.assertEqual((auth, acct), (SUCCESS, SUCCESS), log)

    def test_account_stage_ignores_handles_it_did_not_authenticate(self):
        directory = os.path.join(WORKDIR, "acct_only")
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "svc"), "w") as f:
            f.write(f"auth required pam_permit.so\naccount required {MODULE}\naccount required pam_permit.so\n")
        import subprocess
        done = subprocess.run([DRIVER, directory, "svc", "alice"], capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, PAM_OAUTH2_TEST_TOKEN="x"))
        # pam_oauth2 answers PAM_IGNORE, so the stack's result is pam_permit's.
        self.assertIn("authenticate=PAM_SUCCESS acct_mgmt=PAM_SUCCESS", done.stdout)

    def test_conf_with_secret_world_readable(self):
        self.run_case([f"conf={self.introspect_conf(mode=0o644)}"], tok("user-alice"), SERVICE_ERR, "world-readable")

    def test_conf_group_writable(self):
        self.run_case([f"conf={self.conf(http_url() + chr(10), 0o660)}"], tok("user-alice"), SERVICE_ERR,
                      "group- or world-writable")

    def test_conf_missing(self):
        self.run_case([f"conf={WORKDIR}/missing.conf"], tok("user-alice"), SERVICE_ERR, "cannot open")

    def test_arguments_override_conf(self):
        path = self.conf(f"userinfo_url = http://127.0.0.1:{pam_harness.free_port()}/userinfo\nallow_http\n")
        self.run_case([f"conf={path}", http_url()], tok("user-alice"), SUCCESS, "granted")

    def test_username_map(self):
        path = self.conf("/^(.*)-admin$  \\1\n", 0o644)
        self.run_case([http_url(), "allow_http", f"username_map={path}"], tok("user-alice-admin"), SUCCESS, "granted")
        self.run_case([http_url(), "allow_http", f"username_map={path}"], tok("user-alice"), AUTH_ERR,
                      "which username_map does not map to 'alice'")
        broken = self.conf("/(unclosed alice\n", 0o644)
        self.run_case([http_url(), "allow_http", f"username_map={broken}"], tok("user-alice"), SERVICE_ERR,
                      "line 1: pattern does not compile")

    def test_verdict_cache(self):
        cache = os.path.join(WORKDIR, "verdicts")
        os.makedirs(cache, exist_ok=True)
        token = tok("once")
        with_cache = [http_url(), "allow_http", f"cache_dir={cache}", "cache_ttl=60"]
        # The provider grants this token only once: the second login can only come from the cache.
        self.run_case(with_cache, token, SUCCESS, "granted")
        self.run_case(with_cache, token, SUCCESS, "granted")
        self.run_case([http_url(), "allow_http", f"cache_dir={cache}", "cache_ttl=0"], token, AUTH_ERR, "HTTP 401")
        uid_dir = os.path.join(cache, str(os.geteuid()))
        self.assertEqual(os.stat(uid_dir).st_mode & 0o777, 0o700)
        for name in os.listdir(uid_dir):
            with open(os.path.join(uid_dir, name)) as f:
                self.assertNotIn(token, f.read())

    def test_unknown_key_in_conf(self):
        path = self.conf(http_url() + "\nallow_http\ngroup = dba\n")
        self.run_case([f"conf={path}"], tok("user-alice"), SERVICE_ERR, "line 3 is not a known option")


class LongLivedHost(unittest.TestCase):
    def test_load_use_unload_10000_times(self):
        cycles = os.environ.get("PAM_OAUTH2_TEST_CYCLES", "10000")  # fewer under sanitizers
        service = pam_harness.PamService(MODULE, [http_url(), "allow_http", "cache_ttl=0"])
        try:
            import subprocess
            # Successes, refusals and identity provider failures, in turn.
            mix = [tok("user-alice"), tok("user-bob"), tok("status-401"), tok("status-500"), tok("garbage")]
            TOKENS_USED.update(mix)
            env = dict(os.environ, PAM_OAUTH2_TEST_TOKEN=",".join(mix))
            done = subprocess.run([DRIVER, service.dir, service.name, "alice", "--repeat", cycles, "--stats"],
                                  env=env, capture_output=True, text=True, timeout=600)
        finally:
            service.remove()
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        start, warm, end = [dict(p.split("=") for p in line.split()[1:]) for line in done.stdout.splitlines()]
        print(f"\n{cycles} cycles: rss start {start['rss_kib']} KiB, after 1 cycle {warm['rss_kib']} KiB, "
              f"end {end['rss_kib']} KiB; fds {start['fds']} -> {end['fds']}", file=sys.stderr)
        self.assertEqual(start["fds"], end["fds"])
        if os.environ.get("PAM_OAUTH2_TEST_SANITIZED"):
            return  # ASan's shadow memory and quarantine grow by design; LeakSanitizer checks leaks instead
        # A leak of even 100 bytes per cycle would show as ~1 MiB here.
        self.assertLess(int(end["rss_kib"]) - int(warm["rss_kib"]), 1024)


class UnderValgrind(unittest.TestCase):
    def test_cycles_under_valgrind(self):
        if os.environ.get("PAM_OAUTH2_TEST_SANITIZED") or not shutil.which("valgrind"):
            self.skipTest("sanitized build, or no valgrind")
        service = pam_harness.PamService(MODULE, [http_url(), "allow_http", "cache_ttl=0"])
        try:
            import subprocess
            mix = [tok("user-alice"), tok("status-401"), tok("status-500"), tok("garbage")]
            env = dict(os.environ, PAM_OAUTH2_TEST_TOKEN=",".join(mix))
            suppressions = os.path.join(os.path.dirname(os.path.abspath(__file__)), "valgrind.supp")
            done = subprocess.run(["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                                   "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                                   f"--suppressions={suppressions}", DRIVER, service.dir, service.name, "alice",
                                   "--repeat", "200"], env=env, capture_output=True, text=True, timeout=900)
        finally:
            service.remove()
        summary = [line for line in done.stderr.splitlines() if "lost:" in line or "ERROR SUMMARY" in line]
        print("\nvalgrind, 200 cycles: " + "; ".join(line.split("== ", 1)[-1] for line in summary), file=sys.stderr)
        self.assertEqual(done.returncode, 0, done.stderr[-4000:])
        self.assertIn("ERROR SUMMARY: 0 errors", done.stderr)


def token_fingerprint(token):
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:8]


class AuditTrail(unittest.TestCase):
    """audit=file in the host process: one JSON object per decision, field by field, never a token."""

    def setUp(self):
        self.path = os.path.join(WORKDIR, f"audit-{secrets.token_hex(4)}.log")

    def tearDown(self):
        if os.path.exists(self.path):
            os.unlink(self.path)

    def audited(self, args, user, token, expected):
        """One login with the audit on; its one event, parsed, after checking the file holds no token."""
        before = time.time()
        auth, _, log, _ = authenticate(["audit=file", f"audit_file={self.path}", *args], user, token)
        self.assertEqual(auth, expected, log)
        with open(self.path) as f:
            text = f.read()
        LOG_OUTPUT.append(text)  # scanned for tokens with every log, at the end
        self.assertNotIn(token, text)
        self.assertNotIn(token.split("~")[1], text)
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        lines = text.splitlines()
        self.assertEqual(len(lines), 1, text)
        event = json.loads(lines[0])
        self.assertEqual(event["event"], "login")
        self.assertRegex(event["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertLessEqual(int(before) - 1, event["epoch"])
        self.assertLessEqual(event["epoch"], time.time() + 1)
        self.assertEqual(event["time"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event["epoch"])))
        self.assertEqual(event["host"], socket.gethostname())
        self.assertEqual(event["service"], "pam_oauth2_test")
        self.assertEqual(event["token"], token_fingerprint(token))
        self.assertEqual(event["rhost"], "127.0.0.1")
        self.assertNotIn("peer_pid", event)  # in-process: no daemon asked
        return event, log

    def test_grant(self):
        conf = os.path.join(WORKDIR, "audit-introspect.conf")
        with open(conf, "w") as f:
            f.write(f"verify = introspect\nintrospection_url = http://127.0.0.1:{HTTP.port}/introspect\n"
                    f"client_id = {scripted_idp.CLIENT_ID}\nclient_secret = {scripted_idp.CLIENT_SECRET}\n"
                    "allow_http\naudience = postgres\n")
        os.chmod(conf, 0o640)
        event, _ = self.audited([f"conf={conf}"], "alice", tok("user-alice"), SUCCESS)
        self.assertEqual(event["user"], "alice")
        self.assertEqual(event["result"], "granted")
        self.assertEqual(event["method"], "introspect")
        self.assertEqual(event["sub"], "id-alice")
        self.assertEqual(event["client_id"], "psql")
        self.assertEqual(event["aud"], ["postgres"])
        self.assertGreater(event["exp"], time.time())
        self.assertEqual(set(event), {"event", "time", "epoch", "host", "service", "user", "result", "reason",
                                      "method", "token", "rhost", "sub", "client_id", "aud", "exp"})

    def test_refusal(self):
        event, _ = self.audited([http_url(), "allow_http"], "alice", tok("user-bob"), AUTH_ERR)
        self.assertEqual(event["user"], "alice")
        self.assertEqual(event["result"], "denied")
        self.assertEqual(event["reason"], "claim preferred_username is 'bob', PAM user is 'alice'")
        self.assertEqual(event["method"], "userinfo")
        self.assertEqual(event["sub"], "id-bob")  # verified, then refused by a rule: who it was is known
        self.assertNotIn("iss", event)

    def test_unavailable_provider(self):
        event, _ = self.audited([http_url(), "allow_http"], "alice", tok("status-500"), UNAVAIL)
        self.assertEqual(event["result"], "unavailable")
        self.assertIn("answered HTTP 500", event["reason"])
        for absent in ("sub", "iss", "aud", "client_id", "exp", "jti"):
            self.assertNotIn(absent, event)

    def test_unwritable_file_leaves_the_login_alone(self):
        self.path = os.path.join(WORKDIR, "no", "such", "dir", "audit.log")
        auth, acct, log, _ = authenticate([http_url(), "allow_http", "audit=file", f"audit_file={self.path}"],
                                          "alice", tok("user-alice"))
        self.assertEqual((auth, acct), (SUCCESS, SUCCESS), log)
        self.assertIn(f"audit: 1 event(s) not written to {self.path} (cannot open: No such file or directory); "
                      "logins go on", log)

    def test_bad_values_are_configuration_errors(self):
        for args, reason in (
                (["audit=bogus"], "option audit must be off, syslog or file"),
                (["audit=file"], "audit=file needs audit_file (the absolute path the events are appended to)"),
                (["audit=file", "audit_file=audit.log"], "option audit_file must be an absolute path"),
                ([f"audit_file={self.path}"], "option audit_file needs audit=file")):
            auth, _, log, _ = authenticate([http_url(), "allow_http", *args], "alice", tok("user-alice"))
            self.assertEqual(auth, SERVICE_ERR, log)
            self.assertIn(f"configuration error: {reason}", log)
        self.assertFalse(os.path.exists(self.path))


class SecretsNeverLogged(unittest.TestCase):
    """Runs last (see load_tests): scans the log output of every case above."""

    def test_no_token_in_any_log(self):
        self.assertGreater(len(LOG_OUTPUT), 30)
        everything = "\n".join(LOG_OUTPUT)
        checked = 0
        for token in TOKENS_USED:
            if len(token) >= 16:
                self.assertNotIn(token, everything)
                checked += 1
        self.assertGreater(checked, 30)
        self.assertNotIn(scripted_idp.CLIENT_SECRET, everything)
        self.assertNotIn("Bearer", everything)


# The three parts run as separate ctest entries: the functional cases take about a minute, the
# load/unload soak and the valgrind run take minutes each and carry the `slow` label.
SUITES = {
    "functional": (UserinfoCases, TransportHelper, SetuidHost, ConfFileAndIntrospection, AuditTrail,
                   SecretsNeverLogged),
    "soak": (LongLivedHost,),
    "valgrind": (UnderValgrind,),
}
SUITE = "functional"


def load_tests(loader, tests, pattern):
    suite = unittest.TestSuite()
    for case in SUITES[SUITE]:
        suite.addTests(loader.loadTestsFromTestCase(case))
    return suite


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--driver", required=True)
    parser.add_argument("--suite", choices=sorted(SUITES), default="functional")
    parser.add_argument("--wrong-stamp")
    options, rest = parser.parse_known_args()
    MODULE, DRIVER = os.path.abspath(options.module), os.path.abspath(options.driver)
    WRONG_STAMP = os.path.abspath(options.wrong_stamp) if options.wrong_stamp else None
    SUITE = options.suite
    unittest.main(argv=[sys.argv[0], "-v", *rest])
