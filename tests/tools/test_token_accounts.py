#!/usr/bin/env python3
"""pam_oauth2_token's accounts, --status, --logout and sign-in lock against the real oidc-provider
test identity provider (device flow, approved through its test route), and the start-up that loads
no libcurl when the kept access token answers:

    test_token_accounts.py build/tools/pam_oauth2_token

Starts the provider on loopback and stops it by its pid; every sign-in lives under a temporary HOME.
"""

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import fixtures  # noqa: E402

TOKEN = None
WS = IDP = None


def setUpModule():
    global WS, IDP
    WS, IDP = fixtures.start_provider()


def tearDownModule():
    fixtures.stop_provider(WS, IDP)


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def device_requests():
    """Every device authorization request so far: [{client, login_hint}]."""
    with urllib.request.urlopen(IDP.issuer + "/test/device/requests", context=IDP._tls, timeout=10) as answer:
        return json.loads(answer.read())


class AccountCase(unittest.TestCase):
    def setUp(self):
        self.helper = fixtures.TokenHelper(TOKEN, IDP, WS)
        self.addCleanup(self.helper.remove)
        self.addCleanup(lambda: self.helper.run("--store", "file", "--logout", "--all"))

    def run_helper(self, *args, **kwargs):
        return self.helper.run("--store", "file", *args, **kwargs)

    def sign_in(self, account, user):
        code, out, err, shown = self.run_helper("--account", account, approve_as=user)
        self.assertEqual(code, 0, err)
        self.assertIsNotNone(shown)
        return out.strip()

    def profile_key(self):
        identity = "\n".join([IDP.issuer, self.helper.client, "openid offline_access", "",
                              fixtures.TokenHelper.RESOURCE])
        return hashlib.sha256(identity.encode()).hexdigest()[:16]

    def kept(self, path):
        with open(path) as f:
            return json.load(f)


class Accounts(AccountCase):
    def test_two_accounts_are_kept_and_refreshed_apart(self):
        before = len(device_requests())
        alice = self.sign_in("alice@example.com", "alice")
        bob = self.sign_in("bob", "bob")
        self.assertEqual((claims(alice)["sub"], claims(bob)["sub"]), ("id-alice", "id-bob"))
        # Each sign-in asked the provider for its own account.
        hints = [r["login_hint"] for r in device_requests()[before:]]
        self.assertEqual(hints, ["alice@example.com", "bob"])
        files = self.helper.cache_files()
        key = self.profile_key()
        names = sorted(os.path.basename(p) for p in files)
        self.assertEqual(len(names), 2)
        for name in names:
            self.assertRegex(name, rf"^{key}-[0-9a-f]{{16}}\.json$")
        bob_path = [p for p in files if self.kept(p)["account"] == "bob"][0]
        bob_kept = self.kept(bob_path)
        # Each account answers from its own kept token, silently.
        for account, token in (("alice@example.com", alice), ("bob", bob)):
            code, out, err, shown = self.run_helper("--account", account)
            self.assertEqual((code, out.strip(), err, shown), (0, token, "", None))
        # A refresh of alice leaves bob's sign-in as it was.
        code, out, err, shown = self.run_helper("--account", "alice@example.com", "--min-valid", "3600")
        self.assertEqual((code, err, shown), (0, "", None))
        self.assertNotEqual(out.strip(), alice)
        self.assertEqual(claims(out.strip())["sub"], "id-alice")
        self.assertEqual(self.kept(bob_path), bob_kept)
        code, out, err, shown = self.run_helper("--account", "bob", "--min-valid", "3600")
        self.assertEqual((code, err, shown), (0, "", None))
        self.assertEqual(claims(out.strip())["sub"], "id-bob")

    def test_default_account_keeps_the_earlier_key_and_what_it_kept(self):
        """A sign-in kept by an earlier version (its key, only the three token fields) still works."""
        code, token, err, _ = self.run_helper(approve_as="alice")
        self.assertEqual(code, 0, err)
        [path] = self.helper.cache_files()
        self.assertEqual(os.path.basename(path), self.profile_key() + ".json")
        kept = self.kept(path)
        self.assertEqual((kept["account"], kept["flow"], kept["username"]), ("", "device", "alice"))
        earlier = {name: kept[name] for name in ("refresh_token", "access_token", "access_expires_at")}
        with open(path, "w") as f:
            json.dump(earlier, f)
        os.chmod(path, 0o600)
        code, out, err, shown = self.run_helper()
        self.assertEqual((code, out, err, shown), (0, token, "", None))
        code, out, err, shown = self.run_helper("--min-valid", "3600")
        self.assertEqual((code, err, shown), (0, "", None))
        self.assertEqual(claims(out.strip())["sub"], "id-alice")
        code, out, _, _ = self.run_helper("--status")
        self.assertIn(f"issuer:        {IDP.issuer}", out)


class Status(AccountCase):
    def test_status_says_who_where_and_until_when_never_a_token(self):
        code, out, _, _ = self.run_helper("--status")
        self.assertEqual((code, out), (0, "not signed in: no sign-in is kept for this profile\n"))
        alice = self.sign_in("alice@example.com", "alice")
        self.sign_in("bob", "bob")
        files = self.helper.cache_files()
        secrets = [v for p in files for k, v in self.kept(p).items() if k.endswith("_token")]
        code, out, err, _ = self.run_helper("--status")
        self.assertEqual(code, 0, err)
        self.assertIn("account alice@example.com, file ", out)
        self.assertIn("account bob, file ", out)
        self.assertIn(f"  issuer:        {IDP.issuer}\n  client:        pg-cli\n", out)
        self.assertIn("  signed in as:  alice (subject id-alice)\n", out)
        self.assertIn("  signed in as:  bob (subject id-bob)\n", out)
        self.assertRegex(out, r"  access token:  valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n")
        self.assertIn("  refresh token: yes\n", out)
        self.assertRegex(out, r"  signed in:     \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ with the device flow\n")
        for secret in secrets:
            self.assertNotIn(secret, out + err)
        code, out, err, _ = self.run_helper("--status", "--json")
        self.assertEqual(code, 0, err)
        shown = json.loads(out)["sign_ins"]
        self.assertEqual(sorted(s["account"] for s in shown), ["alice@example.com", "bob"])
        first = [s for s in shown if s["account"] == "alice@example.com"][0]
        self.assertEqual((first["issuer"], first["client_id"], first["subject"], first["username"], first["flow"],
                          first["refresh_token"], first["access_token_valid"]),
                         (IDP.issuer, "pg-cli", "id-alice", "alice", "device", True, True))
        self.assertEqual(first["access_token_valid_until"], claims(alice)["exp"])
        for secret in secrets:
            self.assertNotIn(secret, out)
        # One account; and every kept sign-in when no profile is named.
        code, out, _, _ = self.run_helper("--status", "--json", "--account", "bob")
        self.assertEqual([s["account"] for s in json.loads(out)["sign_ins"]], ["bob"])
        code, out, err, _ = self.helper.run("--store", "file", "--status", base=False)
        self.assertEqual(code, 0, err)
        self.assertIn("account alice@example.com", out)
        self.assertIn("account bob", out)

    def test_status_needs_no_network(self):
        self.sign_in("bob", "bob")
        IDP.pause()
        try:
            done = subprocess.run(self.helper.command + ["--store", "file", "--status", "--timeout", "2"],
                                  env=dict(self.helper.env, LD_DEBUG="libs"), capture_output=True, text=True,
                                  timeout=30)
        finally:
            IDP.resume()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("account bob", done.stdout)
        self.assertNotIn("libcurl", done.stderr)


class Logout(AccountCase):
    def test_logout_one_account_then_all(self):
        self.sign_in("alice@example.com", "alice")
        self.sign_in("bob", "bob")
        self.assertEqual(self.run_helper(approve_as="alice")[0], 0)  # the default account too
        by_account = {self.kept(p)["account"]: p for p in self.helper.cache_files()}
        bob_kept = self.kept(by_account["bob"])
        code, _, err, _ = self.run_helper("--logout", "--account", "bob")
        self.assertEqual(code, 0, err)
        self.assertIn("signed out of account bob: nothing is kept in file ", err)
        self.assertEqual(sorted(self.helper.cache_files()), sorted([by_account[""], by_account["alice@example.com"]]))
        # Revoked at the provider: the copy put back is refused.
        with open(by_account["bob"], "w") as f:
            json.dump(bob_kept, f)
        os.chmod(by_account["bob"], 0o600)
        code, _, err, _ = self.run_helper("--account", "bob", "--no-prompt", "--min-valid", "3600")
        self.assertEqual(code, 1, err)
        self.assertIn("no longer accepted (invalid_grant", err)
        code, _, err, _ = self.run_helper("--logout", "--all")
        self.assertEqual(code, 0, err)
        self.assertIn("signed out of the default account", err)
        self.assertIn("signed out of account alice@example.com", err)
        self.assertEqual(self.helper.cache_files(), [])
        code, _, err, _ = self.run_helper("--logout", "--all")
        self.assertEqual(code, 0, err)
        self.assertIn("no sign-in was kept for this profile", err)

    def test_logout_of_an_account_not_kept(self):
        self.sign_in("bob", "bob")
        code, out, err, _ = self.run_helper("--logout", "--account", "carol")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("no sign-in is kept for account carol of this profile (kept: bob)", err)
        self.assertEqual(len(self.helper.cache_files()), 1)

    def test_revocation_that_fails_still_forgets(self):
        self.sign_in("bob", "bob")
        IDP.pause()
        try:
            code, _, err, _ = self.run_helper("--logout", "--account", "bob", "--timeout", "1", timeout=30)
        finally:
            IDP.resume()
        self.assertEqual(code, 0, err)
        self.assertIn("cannot revoke the refresh token at the provider (", err)
        self.assertIn("the kept copy is forgotten anyway", err)
        self.assertEqual(self.helper.cache_files(), [])


def keyring_refused():
    """Why this process may not use the kernel keyring (containers often filter its system calls)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(250, 0, -4, 1) >= 0:  # keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 1) on x86-64
        return None
    return os.strerror(ctypes.get_errno())


@unittest.skipIf(keyring_refused(), f"the kernel refuses this process its keyring: {keyring_refused()}")
class KeyringAccounts(AccountCase):
    def test_accounts_in_the_keyring_listed_and_signed_out(self):
        self.addCleanup(lambda: self.helper.run("--store", "keyring", "--logout", "--all"))
        for account, user in (("alice", "alice"), ("bob", "bob")):
            code, _, err, shown = self.helper.run("--store", "keyring", "--account", account, approve_as=user)
            self.assertEqual(code, 0, err)
            self.assertIsNotNone(shown)
        self.assertEqual(self.helper.cache_files(), [])
        code, out, err, _ = self.helper.run("--store", "keyring", "--status", "--json")
        self.assertEqual(code, 0, err)
        shown = json.loads(out)["sign_ins"]
        self.assertEqual([(s["account"], s["username"]) for s in sorted(shown, key=lambda s: s["account"])],
                         [("alice", "alice"), ("bob", "bob")])
        self.assertTrue(all(s["store"].startswith("kernel keyring (user keyring, key pam_oauth2:" + self.profile_key())
                            for s in shown), shown)
        code, _, err, _ = self.helper.run("--store", "keyring", "--logout", "--all")
        self.assertEqual(code, 0, err)
        self.assertIn("signed out of account alice: nothing is kept in kernel keyring", err)
        self.assertIn("signed out of account bob: nothing is kept in kernel keyring", err)
        code, out, _, _ = self.helper.run("--store", "keyring", "--status")
        self.assertEqual((code, out), (0, "not signed in: no sign-in is kept for this profile\n"))


class OneSignInAtATime(AccountCase):
    def test_two_callers_one_sign_in_both_get_the_token(self):
        before = len([r for r in device_requests() if r["client"] == "pg-cli"])
        results = [None, None]

        def call(index):
            results[index] = self.run_helper("--account", "alice", "--timeout", "60", approve_as="alice",
                                             timeout=90)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertTrue(all(r is not None for r in results), results)
        (code1, out1, err1, shown1), (code2, out2, err2, shown2) = results
        self.assertEqual((code1, code2), (0, 0), (err1, err2))
        self.assertEqual(out1, out2)  # the waiting one handed out what the first kept
        self.assertEqual(sorted([shown1 is None, shown2 is None]), [False, True], (err1, err2))
        waited = err1 if shown1 is None else err2
        self.assertIn("another call is signing in to this profile and account: waiting for it", waited)
        after = len([r for r in device_requests() if r["client"] == "pg-cli"])
        self.assertEqual(after - before, 1)

    def test_the_wait_ends_at_the_deadline(self):
        directory = os.path.join(self.helper.home, ".cache", "pam_oauth2")
        os.makedirs(directory, mode=0o700)
        account_key = hashlib.sha256(b"alice").hexdigest()[:16]
        with open(os.path.join(directory, f"{self.profile_key()}-{account_key}.lock"), "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            # subprocess.run's own timeout: a helper that does not give up would sign in and wait.
            done = subprocess.run(self.helper.command + ["--store", "file", "--account", "alice", "--timeout", "1",
                                                        "--sign-in-timeout", "1"],
                                  env=self.helper.env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=20)
        code, out, err = done.returncode, done.stdout, done.stderr
        self.assertEqual((code, out), (1, ""))
        self.assertNotIn("enter the code", err)
        self.assertIn("another call is still signing in to this profile and account", err)
        self.assertIn("gave up after 2 s", err)  # --sign-in-timeout plus --timeout


class StartUp(AccountCase):
    def loaded(self, *args):
        done = subprocess.run(self.helper.command + ["--store", "file", *args],
                              env=dict(self.helper.env, LD_DEBUG="libs"), capture_output=True, text=True,
                              timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        return done.stderr

    def test_the_kept_token_loads_no_libcurl(self):
        linked = subprocess.run(["ldd", TOKEN], capture_output=True, text=True, check=True).stdout
        self.assertNotIn("libcurl", linked)
        self.assertEqual(self.run_helper(approve_as="alice")[0], 0)
        self.assertNotIn("libcurl", self.loaded())
        self.assertNotIn("pam_oauth2_transport.so", self.loaded())
        # A refresh needs the network: the transport (and libcurl behind it) is loaded then.
        refreshed = self.loaded("--min-valid", "3600")
        self.assertIn("pam_oauth2_transport.so", refreshed)
        self.assertIn("libcurl", refreshed)

    @unittest.skipUnless(shutil.which("strace"), "strace is not installed")
    def test_the_kept_token_does_not_initialise_openssl(self):
        """OpenSSL reads openssl.cnf on its first digest: naming the kept sign-in must not be one."""
        self.assertEqual(self.run_helper(approve_as="alice")[0], 0)
        done = subprocess.run(["strace", "-f", "-e", "trace=openat,open", *self.helper.command, "--store", "file"],
                              env=self.helper.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        self.assertNotIn("openssl.cnf", done.stderr)

    def test_a_missing_transport_is_a_clear_error(self):
        """The helper alone, away from the build's pam_oauth2/ directory: a call that needs the
        network says which transport it could not load, and exits 2."""
        directory = tempfile.mkdtemp(prefix="pam_oauth2_token_alone_")
        self.addCleanup(shutil.rmtree, directory)
        alone = os.path.join(directory, "pam_oauth2_token")
        shutil.copy(TOKEN, alone)
        done = subprocess.run([alone, *self.helper.command[1:], "--store", "file"], env=self.helper.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        if "enter the code" in done.stderr:
            self.skipTest("a transport of this build is installed where the packages put it")
        self.assertEqual((done.returncode, done.stdout), (2, ""), done.stderr)
        self.assertRegex(done.stderr, r"cannot load the HTTP transport /\S*/pam_oauth2_transport\.so|does not belong "
                                      r"to this build")


class Usage(unittest.TestCase):
    def run_helper(self, *args):
        done = subprocess.run([TOKEN, "--issuer", "https://idp.invalid", "--client-id", "c", *args],
                              capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, HOME="/nonexistent", XDG_CONFIG_HOME="/nonexistent"))
        return done.returncode, done.stdout, done.stderr

    def test_bad_combinations_and_names(self):
        for args, status, problem in ((("--logout", "--all", "--account", "a"), 4, "it takes no --account"),
                                      (("--all",), 4, "--all goes with --logout"),
                                      (("--json",), 4, "--json goes with --status"),
                                      (("--status", "--logout"), 4, "--status and --logout exclude each other"),
                                      (("--status", "--", "true"), 4, "--status takes no command"),
                                      (("--logout", "--", "true"), 4, "--logout takes no command"),
                                      (("--account", ""), 4, "--account must be a name of 1 to 256 characters"),
                                      (("--account", "a\nb"), 4, "none of them a control character"),
                                      (("--account", "x" * 257), 4, "--account must be a name"),
                                      (("--account",), 4, "--account needs a value")):
            code, out, err = self.run_helper(*args)
            self.assertEqual((code, out), (status, ""), (args, err))
            self.assertIn(problem, err, args)

    def test_account_from_a_profile_is_checked_too(self):
        directory = tempfile.mkdtemp(prefix="pam_oauth2_token_accounts_")
        try:
            path = os.path.join(directory, "token.conf")
            with open(path, "w") as f:
                f.write("issuer = https://idp.invalid\nclient_id = c\naccount = \x01\n")
            os.chmod(path, 0o600)
            done = subprocess.run([TOKEN, "--config", path, "--status"], capture_output=True, text=True, timeout=30,
                                  env=dict(os.environ, HOME=directory))
            self.assertEqual((done.returncode, done.stdout), (3, ""), done.stderr)
            self.assertIn("line 3: account must be a name", done.stderr)
        finally:
            shutil.rmtree(directory)


if __name__ == "__main__":
    TOKEN = sys.argv.pop(1)
    unittest.main(argv=[sys.argv[0], "-v"])
