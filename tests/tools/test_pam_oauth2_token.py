#!/usr/bin/env python3
"""pam_oauth2_token against the real oidc-provider test identity provider with its device flow:
first sign-in and approval, silent calls from the kept refresh token, a revoked refresh token,
denial, expiry, slow_down, the file and keyring stores, profiles, and the token handed to a command
and never to a command line.

    test_pam_oauth2_token.py build/tools/pam_oauth2_token build/tools/pam_oauth2_check

Starts the provider on loopback and stops it by its pid; every sign-in lives under a temporary HOME
and is forgotten (--logout) before the test ends.
"""

import base64
import json
import os
import stat
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import fixtures  # noqa: E402

TOKEN = CHECK = None
WS = IDP = None


def setUpModule():
    global WS, IDP
    WS, IDP = fixtures.start_provider()


def tearDownModule():
    fixtures.stop_provider(WS, IDP)


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def end_process(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class HelperCase(unittest.TestCase):
    client = "pg-cli"
    store = "file"

    def setUp(self):
        self.helper = fixtures.TokenHelper(TOKEN, IDP, WS, client=self.client)
        self.addCleanup(self.helper.remove)
        self.addCleanup(lambda: self.helper.run("--store", self.store, "--logout"))

    def sign_in(self, *args, **kwargs):
        kwargs.setdefault("approve_as", "alice")
        return self.helper.run("--store", self.store, *args, **kwargs)

    def assert_accepted_by_the_module(self, token, user="alice"):
        done = subprocess.run([CHECK, user, "verify=jwt", f"issuer={IDP.issuer}", "audience=postgres",
                               f"ca_file={WS.ca}", f"cache_dir={WS.cache_dir}"],
                              input=token + "\n", capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stdout)


class DeviceFlow(HelperCase):
    def test_first_sign_in_then_silent_calls(self):
        code, out, err, user_code = self.sign_in()
        self.assertEqual(code, 0, err)
        self.assertRegex(user_code, r"^[A-Z]{4}-[A-Z]{4}$")
        self.assertIn(f"open {IDP.issuer}/device and enter the code {user_code}", err)
        self.assertIn(f"?user_code={user_code}", err)
        self.assertIn("signed in", err)
        token = out.strip()
        self.assertEqual(out, token + "\n")  # the token and nothing else on standard output
        self.assertEqual(claims(token)["aud"], "postgres")
        self.assert_accepted_by_the_module(token)
        self.assertNotIn(token, err)

        polls = len(IDP.device_polls())
        code, again, err, shown = self.sign_in(approve_as=None)
        self.assertEqual((code, shown, err), (0, None, ""))  # silent: the kept access token
        self.assertEqual(again, out)
        code, refreshed, err, shown = self.sign_in("--min-valid", "3600", approve_as=None)
        self.assertEqual((code, shown, err), (0, None, ""))  # silent: a refresh, no sign-in
        self.assertNotEqual(refreshed, out)
        self.assert_accepted_by_the_module(refreshed.strip())
        self.assertEqual(len(IDP.device_polls()), polls)

    def test_kept_file_is_0600_and_one_readable_by_others_is_refused(self):
        self.assertEqual(self.sign_in()[0], 0)
        [path] = self.helper.cache_files()
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        os.chmod(path, 0o640)
        code, out, err, _ = self.sign_in(approve_as=None)
        self.assertEqual((code, out), (3, ""))
        self.assertIn("is readable or writable by others (mode 0640): refusing it", err)
        os.chmod(path, 0o600)

    def test_revoked_refresh_token_means_a_new_sign_in(self):
        self.assertEqual(self.sign_in()[0], 0)
        [path] = self.helper.cache_files()
        with open(path) as f:
            kept = json.load(f)
        self.assertEqual(IDP.revoke_refresh_token(kept["refresh_token"], self.client), 200)
        code, out, err, user_code = self.sign_in("--min-valid", "3600")
        self.assertEqual(code, 0, err)
        self.assertIn("the kept sign-in is no longer accepted (invalid_grant", err)
        self.assertIsNotNone(user_code)
        self.assert_accepted_by_the_module(out.strip())

    def test_denied_sign_in(self):
        code, out, err, user_code = self.sign_in(approve_as=None, deny=True)
        self.assertEqual((code, out), (1, ""))
        self.assertIsNotNone(user_code)
        self.assertIn("the sign-in was denied: access_denied", err)
        self.assertEqual(self.helper.cache_files(), [])

    def test_no_prompt_without_a_sign_in(self):
        code, out, err, user_code = self.sign_in("--no-prompt", approve_as=None)
        self.assertEqual((code, out, user_code), (1, "", None))
        self.assertIn("--no-prompt forbids a sign-in", err)

    def test_logout_forgets_and_revokes(self):
        self.assertEqual(self.sign_in()[0], 0)
        [path] = self.helper.cache_files()
        with open(path) as f:
            refresh_token = json.load(f)["refresh_token"]
        code, _, err, _ = self.helper.run("--store", self.store, "--logout")
        self.assertEqual(code, 0, err)
        self.assertIn("signed out", err)
        self.assertFalse(os.path.exists(path))
        # Revoked at the provider too: the kept copy could not be replayed from a backup.
        code, _, err, _ = self.sign_in("--no-prompt", approve_as=None)
        self.assertEqual(code, 1)
        with open(path, "w") as f:
            json.dump({"refresh_token": refresh_token, "access_token": "", "access_expires_at": 0}, f)
        os.chmod(path, 0o600)
        code, _, err, _ = self.sign_in("--no-prompt", approve_as=None)
        self.assertEqual(code, 1)
        self.assertIn("no longer accepted (invalid_grant", err)

    def test_bad_client_is_a_configuration_error(self):
        helper = fixtures.TokenHelper(TOKEN, IDP, WS, client="psql")  # no device grant for this client
        self.addCleanup(helper.remove)
        code, out, err, _ = helper.run("--store", "file", "--scope", "openid")
        self.assertEqual((code, out), (3, ""))
        self.assertIn("cannot sign in: device authorization endpoint", err)


class SlowDown(HelperCase):
    client = "pg-cli-slow"

    def test_slow_down_adds_five_seconds(self):
        def after_slow_down():
            # Approve only once the provider has told the helper to slow down.
            for _ in range(100):
                if any(p["client"] == self.client and p["error"] == "slow_down" for p in IDP.device_polls()):
                    return
                __import__("time").sleep(0.1)
            self.fail("the helper never polled")
        code, _, err, _ = self.sign_in(before_answer=after_slow_down)
        self.assertEqual(code, 0, err)
        polls = [p for p in IDP.device_polls() if p["client"] == self.client]
        self.assertEqual(polls[0]["error"], "slow_down")
        gap = (polls[1]["at_ms"] - polls[0]["at_ms"]) / 1000
        self.assertGreaterEqual(gap, 5.9, polls)  # interval 1 s + 5 s
        self.assertLess(gap, 9, polls)


class Expiry(HelperCase):
    client = "pg-cli-short"  # its device codes live 3 s

    def test_code_that_expires_unanswered(self):
        code, out, err, user_code = self.sign_in(approve_as=None)
        self.assertEqual((code, out), (1, ""))
        self.assertIsNotNone(user_code)
        self.assertRegex(err, r"the sign-in was not completed in time: (expired_token|the code .* expired)")


def keyring_refused():
    """Why this process may not use the kernel keyring (containers often filter its system calls)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    keyctl_get_keyring_id, user_keyring = 0, -4
    if libc.syscall(250, keyctl_get_keyring_id, user_keyring, 1) >= 0:  # keyctl(2) on x86-64
        return None
    return os.strerror(ctypes.get_errno())


@unittest.skipIf(keyring_refused(), f"the kernel refuses this process its keyring: {keyring_refused()}")
class Keyring(HelperCase):
    store = "keyring"

    def test_kept_in_the_keyring_not_on_disk(self):
        code, out, err, _ = self.sign_in()
        self.assertEqual(code, 0, err)
        self.assertEqual(self.helper.cache_files(), [])
        code, again, err, shown = self.sign_in("--min-valid", "3600", approve_as=None)
        self.assertEqual((code, shown), (0, None), err)
        self.assert_accepted_by_the_module(again.strip())
        code, _, err, _ = self.helper.run("--store", "keyring", "--logout")
        self.assertIn("kernel keyring", err)
        self.assertEqual(self.sign_in("--no-prompt", approve_as=None)[0], 1)


class HandedToACommand(HelperCase):
    def test_environment_of_the_child_only_never_an_argument(self):
        self.assertEqual(self.sign_in()[0], 0)
        script = ("import os, sys, json; "
                  "parent = open(f'/proc/{os.getppid()}/cmdline', 'rb').read().decode(); "
                  "print(json.dumps({'argv': sys.argv, 'parent': parent, 'pw': os.environ.get('PGPASSWORD', ''),"
                  " 'passfile': os.environ.get('PGPASSFILE')}))")
        code, out, err, _ = self.sign_in("--", "python3", "-c", script, "arg1", approve_as=None)
        self.assertEqual(code, 0, err)
        seen = json.loads(out)
        self.assertGreater(len(seen["pw"]), 100)
        self.assertNotIn(seen["pw"], " ".join(seen["argv"]))
        self.assertNotIn(seen["pw"], seen["parent"])
        self.assertEqual(seen["argv"][1:], ["arg1"])
        self.assertIsNone(seen["passfile"])
        self.assert_accepted_by_the_module(seen["pw"])

    def test_passfile_is_private_and_removed(self):
        self.assertEqual(self.sign_in()[0], 0)
        script = ("import os, json; p = os.environ['PGPASSFILE']; "
                  "print(json.dumps({'path': p, 'mode': os.stat(p).st_mode & 0o777, 'line': open(p).read(),"
                  " 'pw': os.environ.get('PGPASSWORD')}))")
        code, out, err, _ = self.sign_in("--passfile", "--", "python3", "-c", script, approve_as=None)
        self.assertEqual(code, 0, err)
        seen = json.loads(out)
        self.assertEqual(seen["mode"], 0o600)
        self.assertIsNone(seen["pw"])
        self.assertTrue(seen["line"].startswith("*:*:*:*:ey"))
        # An inherited descriptor of a memory file: there is no path on disk to remove or to leave.
        self.assertRegex(seen["path"], r"^/dev/fd/\d+$")

    def test_passfile_does_not_outlive_a_signal(self):
        """SIGTERM to the helper while its command runs leaves no passfile anywhere."""
        self.assertEqual(self.sign_in()[0], 0)
        runtime = tempfile.mkdtemp(prefix="pam_oauth2_token_runtime_")
        reports = tempfile.mkdtemp(prefix="pam_oauth2_token_report_")
        self.addCleanup(shutil.rmtree, runtime)
        self.addCleanup(shutil.rmtree, reports)
        report = os.path.join(reports, "seen.json")
        script = ("import os, sys, json, time; p = os.environ['PGPASSFILE']; "
                  "seen = {'path': p, 'target': os.path.realpath(p), 'pid': os.getpid(), 'line': open(p).read()}; "
                  "json.dump(seen, open(sys.argv[1] + '.part', 'w')); os.rename(sys.argv[1] + '.part', sys.argv[1]); "
                  "time.sleep(60)")
        before = set(os.listdir("/tmp"))
        helper = subprocess.Popen(self.helper.command + ["--store", self.store, "--passfile", "--", "python3", "-c",
                                                         script, report],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=dict(self.helper.env, XDG_RUNTIME_DIR=runtime))
        try:
            for _ in range(300):
                if os.path.exists(report) or helper.poll() is not None:
                    break
                time.sleep(0.1)
            with open(report) as f:
                seen = json.load(f)
            self.addCleanup(end_process, seen["pid"])  # the command outlives the helper: ours to end
            self.assertTrue(seen["line"].startswith("*:*:*:*:ey"))
            helper.send_signal(signal.SIGTERM)
            self.assertEqual(helper.wait(timeout=10), -signal.SIGTERM)
        finally:
            if helper.poll() is None:
                helper.kill()
                helper.wait()
        self.assertEqual(os.listdir(runtime), [])
        left = [name for name in set(os.listdir("/tmp")) - before if name.startswith("pam_oauth2_token.pgpass")]
        self.assertEqual(left, [])
        self.assertFalse(os.path.exists(seen["target"]), seen["target"])  # "/memfd:... (deleted)", on no disk

    def test_child_status_is_passed_on(self):
        self.assertEqual(self.sign_in()[0], 0)
        self.assertEqual(self.sign_in("--", "sh", "-c", "exit 7", approve_as=None)[0], 7)
        self.assertEqual(self.sign_in("--", "/nonexistent/command", approve_as=None)[0], 127)


class Profiles(HelperCase):
    def write_profiles(self, text, mode=0o600):
        directory = os.path.join(self.helper.home, ".config", "pam_oauth2")
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "token.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def test_profile_is_all_a_person_types(self):
        self.write_profiles(f"# shared\nca_file = {WS.ca}\nstore = file\n"
                            f"[profile prod]\nissuer = {IDP.issuer}\nclient_id = pg-cli\n"
                            f"resource = {fixtures.TokenHelper.RESOURCE}\n"
                            "[profile other]\nissuer = https://other.invalid\n")
        code, out, err, _ = self.helper.run("-p", "prod", approve_as="alice", base=False)
        self.assertEqual(code, 0, err)
        self.assert_accepted_by_the_module(out.strip())
        self.assertEqual(len(self.helper.cache_files()), 1)
        code, _, err, _ = self.helper.run("-p", "missing", base=False)
        self.assertEqual(code, 3)
        self.assertIn("no [profile missing]", err)
        self.helper.run("-p", "prod", "--logout", base=False)

    def test_profile_file_writable_by_others_is_refused(self):
        self.write_profiles(f"[profile prod]\nissuer = {IDP.issuer}\nclient_id = pg-cli\n", mode=0o666)
        code, out, err, user_code = self.helper.run("-p", "prod", base=False)
        self.assertEqual((code, out, user_code), (3, "", None))
        self.assertIn("writable by no one else", err)


class Usage(unittest.TestCase):
    def run_helper(self, *args):
        done = subprocess.run([TOKEN, *args], capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, HOME="/nonexistent", XDG_CONFIG_HOME="/nonexistent"))
        return done.returncode, done.stdout, done.stderr

    def test_a_profile_line_is_never_echoed(self):
        directory = tempfile.mkdtemp(prefix="pam_oauth2_token_profile_")
        try:
            path = os.path.join(directory, "token.conf")
            with open(path, "w") as f:
                f.write("# mine\nclient_secret: s3cr3t-typo\n")
            os.chmod(path, 0o600)
            code, out, err = self.run_helper("--config", path)
            self.assertEqual((code, out), (3, ""))
            self.assertIn(f"{path} line 2 is not key = value", err)
            self.assertNotIn("s3cr3t", err)
            with open(path, "w") as f:
                f.write("password = s3cr3t-typo\n")
            code, out, err = self.run_helper("--config", path)
            self.assertEqual((code, out), (3, ""))
            self.assertIn(f"{path} line 1 is not a known setting", err)
            self.assertNotIn("s3cr3t", err)
        finally:
            shutil.rmtree(directory)

    def test_the_profile_file_is_opened_once_and_checked_on_what_was_opened(self):
        # Issue 19: token.conf decides where a sign-in goes. It is opened without following a
        # symlink and the checks are made on the opened descriptor, so neither a link nor a file
        # swapped in after a check is ever read; every refusal is exit 3 with the rule it broke.
        directory = tempfile.mkdtemp(prefix="pam_oauth2_token_trust_")
        try:
            good = os.path.join(directory, "real.conf")
            with open(good, "w") as f:
                f.write("issuer = https://idp.invalid\nclient_id = c\n")
            os.chmod(good, 0o600)
            link = os.path.join(directory, "token.conf")
            os.symlink(good, link)
            fifo = os.path.join(directory, "fifo.conf")
            os.mkfifo(fifo, 0o600)
            shutil.copy(good, os.path.join(directory, "nobody.conf"))
            shutil.chown(os.path.join(directory, "nobody.conf"), "nobody")
            cases = [(link, "cannot open"), (fifo, "not a regular file"),
                     (os.path.join(directory, "nobody.conf"), "must be owned by uid")]
            for mode in (0o620, 0o602):
                path = os.path.join(directory, f"mode{mode:o}.conf")
                shutil.copy(good, path)
                os.chmod(path, mode)
                cases.append((path, "must not be group- or world-writable"))
            for path, problem in cases:
                code, out, err = self.run_helper("--config", path)
                self.assertEqual((code, out), (3, ""), (path, err))
                self.assertIn(f"profile file {path}: {problem}", err)
                self.assertIn("writable by no one else", err)
            # A directory on the way that others may write (they could swap the file): refused too.
            os.chmod(directory, 0o777)
            code, out, err = self.run_helper("--config", good)
            self.assertEqual((code, out), (3, ""), err)
            self.assertIn(f"directory {directory} is writable by others", err)
            os.chmod(directory, 0o700)
            # The same file, opened directly, is accepted (the next complaint is about signing in).
            code, _, err = self.run_helper("--config", good, "--store", "file", "--", "true")
            self.assertNotIn("profile file", err)
        finally:
            shutil.rmtree(directory)

    def test_usage_and_configuration_errors(self):
        code, out, _ = self.run_helper("--help")
        self.assertEqual(code, 0)
        self.assertIn("device flow", out)
        self.assertRegex(self.run_helper("--version")[1], r"^pam_oauth2_token \d+\.\d+\.\d+\n$")
        for args, status, problem in ((("--bogus", "x"), 4, "unknown option --bogus"),
                                      (("--issuer",), 4, "--issuer needs a value"),
                                      (("stray",), 4, "a command goes after --"),
                                      (("--issuer", "https://x", "--client-id", "c", "--"), 4, "needs a command"),
                                      (("--issuer", "https://x", "--client-id", "c", "--store", "disk"), 4,
                                       "--store is not one of"),
                                      (("--issuer", "https://x", "--client-id", "c", "--passfile"), 4,
                                       "go with a command"),
                                      ((), 3, "no issuer and client id")):
            code, out, err = self.run_helper(*args)
            self.assertEqual((code, out), (status, ""), args)
            self.assertIn(problem, err, args)


if __name__ == "__main__":
    TOKEN, CHECK = sys.argv.pop(1), sys.argv.pop(1)
    unittest.main(argv=[sys.argv[0], "-v"])
