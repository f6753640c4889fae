#!/usr/bin/python3
"""End to end, as a person at a desktop: `pam_oauth2_token --profile desktop -- psql ...` opens the
browser (Debian's chromium, headless, driven by python3-selenium and chromium-driver), alice signs in
on oidc-provider's own login and consent pages, the browser follows the redirect to the helper's
listener, and the token it gets logs alice into a throwaway PostgreSQL 15 cluster through
pam_oauth2.so, where row level security shows her rows only. The next call is silent: nothing on the
terminal, no browser. The same token for bob, or on a PAM line of another audience, is refused.

    /usr/bin/python3 test_browser_postgres.py --module build/pam_oauth2/pam_oauth2.so \\
        --token-helper build/tools/pam_oauth2_token

Needs root (writes two /etc/pam.d/<test service> files and removes them) and Debian's /usr/bin/python3
(python3-selenium lives there). Leaves nothing running and nothing in /etc.
"""

import argparse
import base64
import hashlib
import json
import os
import pty
import select
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import browser_sign_in  # noqa: E402
import fixtures  # noqa: E402

MODULE = TOKEN_HELPER = None
SERVICE = f"pam_oauth2_e2e_browser_{os.getpid()}"  # the database's line: audience postgres
OTHER = f"pam_oauth2_e2e_browser_other_{os.getpid()}"  # database reports: a line for another audience
PROFILE = "desktop"
CLIENT = "pg-desktop"  # the provider's native client with the authorization code flow and PKCE
ALICES_ROWS = ["alice", "alice note 1", "alice note 2"]
QUERY = "select current_user; select body from notes order by 1"


def setUpModule():
    global WS, IDP, PG, PAM, PAM_OTHER
    WS = fixtures.Workspace(MODULE)
    IDP = PG = PAM = PAM_OTHER = None
    try:
        IDP = fixtures.OidcProvider(WS)
        PAM = fixtures.PamServiceFile(SERVICE, WS.module, pam_args("postgres"))
        PAM_OTHER = fixtures.PamServiceFile(OTHER, WS.module, pam_args("other-api"))
        PG = fixtures.PostgresCluster(WS, SERVICE)
        with open(os.path.join(PG.data, "pg_hba.conf"), "w") as f:
            f.write("local all postgres peer\n"
                    f"host reports all 127.0.0.1/32 pam pamservice={OTHER}\n"
                    f"host all all 127.0.0.1/32 pam pamservice={SERVICE}\n")
        PG.admin_sql("CREATE DATABASE reports")
        PG.admin_sql("""
            CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN;
            CREATE TABLE notes (owner name NOT NULL DEFAULT current_user, body text NOT NULL);
            ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
            CREATE POLICY own_notes ON notes USING (owner = current_user);
            GRANT SELECT ON notes TO alice, bob;
            INSERT INTO notes VALUES ('alice', 'alice note 1'), ('alice', 'alice note 2'), ('bob', 'bob note');
            SELECT pg_reload_conf();
        """)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    for part in (PG, IDP):
        if part is not None:
            part.stop()
    for part in (PAM, PAM_OTHER):
        if part is not None:
            part.remove()
    WS.remove()


def pam_args(audience):
    """JWT access tokens checked locally. The user is the default username_claim, preferred_username:
    a browser sign-in's sub is the login name (alice), a device-flow one's is id-alice; both tokens
    carry preferred_username alice."""
    return ["log=stderr", "verify=jwt", f"issuer={IDP.issuer}", f"audience={audience}", f"ca_file={WS.ca}",
            f"cache_dir={WS.cache_dir}", "leeway=0", "cache_ttl=0", "timeout=5"]


def psql_through_the_helper(user="alice", database="postgres"):
    """The command a person types: the helper, its profile, then psql with the token as PGPASSWORD."""
    return [TOKEN_HELPER, "--profile", PROFILE, "--", "psql", "-X", "-w", "-h", "127.0.0.1", "-p", str(PG.port),
            "-U", user, "-d", database, "-Atc", QUERY]


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def fingerprint(token):
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:8]


def run_on_a_terminal(command, env, timeout=60):
    """Runs `command` with its standard error on a pseudo-terminal, as on a person's screen (the helper
    writes there only), standard output on a pipe. Returns (exit status, stdout, what the terminal
    showed)."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal,
                                   env=env)
    finally:
        os.close(terminal)
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # EIO: every holder of the terminal has closed it
                    break
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
        out = process.communicate(timeout=max(1, deadline - time.monotonic()))[0]
    finally:
        fixtures.stop_process(process)
        os.close(controller)
    return process.returncode, out.decode(), shown.decode(errors="replace")


class BrowserSignInToPostgres(unittest.TestCase):
    """One browser sign-in for the class (setUpClass, the first call); each test then checks one part
    of what that sign-in and the calls after it do."""

    @classmethod
    def setUpClass(cls):
        cls.helper = fixtures.TokenHelper(TOKEN_HELPER, IDP, WS, client=CLIENT)
        try:
            cls.browser = browser_sign_in.BrowserCommand(cls.helper.home)
            profile = cls.helper.write_profile(PROFILE)
            with open(profile, "a") as f:
                # A call that wrongly signs in again fails in 30 s, not the default 300.
                f.write(f"flow = browser\nbrowser = {cls.browser.path}\nsign_in_timeout = 30\n")
            cls.driver = browser_sign_in.start_browser()
        except BaseException:
            cls.helper.remove()
            raise
        try:
            cls.first = cls.first_call()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.helper.remove()

    @classmethod
    def first_call(cls):
        """The helper with psql, no sign-in kept: the browser command gets the address, the driven
        chromium signs in there. Returns what the test checks: (status, stdout, stderr, address,
        page landed on, PostgreSQL log of the login)."""
        offset = len(PG.log_text())
        process = subprocess.Popen(psql_through_the_helper(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=cls.psql_env())
        try:
            arguments = cls.browser.wait_for_call(timeout=30)
            if arguments is None:
                raise AssertionError("the helper opened no browser: " + process.communicate(timeout=30)[1])
            landed = browser_sign_in.sign_in(cls.driver, arguments[-1], user="alice")
            out, err = process.communicate(timeout=60)
        finally:
            fixtures.stop_process(process)
        time.sleep(0.1)  # let the backend's stderr reach the log file
        return process.returncode, out, err, arguments, landed, PG.log_text()[offset:]

    @classmethod
    def psql_env(cls):
        return dict(cls.helper.env, PGCONNECT_TIMEOUT="20", PAGER="")

    def kept_token(self):
        """The access token the helper keeps (printed by a silent call of its own)."""
        code, out, err, _ = self.helper.run("--profile", PROFILE, "--no-prompt", base=False)
        self.assertEqual((code, err), (0, ""))
        return out.strip()

    def assert_no_browser_since_the_sign_in(self):
        self.assertEqual(len(self.browser.calls()), 1, self.browser.calls())

    def test_first_call_signs_in_in_the_browser_and_psql_sees_alices_rows_only(self):
        code, out, err, arguments, landed, log = self.first
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines(), ALICES_ROWS)  # row level security: not "bob note"
        self.assertNotIn("bob", out)
        # The browser was handed one argument, the provider's authorization address for this client.
        [url] = arguments
        self.assertTrue(url.startswith(IDP.issuer + "/auth?"), url)
        self.assertIn(f"client_id={CLIENT}", url)
        self.assertIn(url, err)  # also printed, for a person whose browser did not open
        self.assertIn("signed in", err)
        self.assertIn("Signed in, you can close this tab.", landed)
        token = self.kept_token()
        self.assertNotIn(token, err)
        self.assertEqual((claims(token)["sub"], claims(token)["preferred_username"]), ("alice", "alice"))
        self.assertIn(f"user=alice method=jwt token={fingerprint(token)}", log)
        self.assertIn("result=granted", log)

    def test_next_call_is_silent_opens_no_browser_and_connects_again(self):
        offset = len(PG.log_text())
        code, out, shown = run_on_a_terminal(psql_through_the_helper(), self.psql_env())
        self.assertEqual((code, shown), (0, ""))
        self.assertEqual(out.splitlines(), ALICES_ROWS)
        self.assert_no_browser_since_the_sign_in()
        time.sleep(0.1)
        self.assertIn(f"user=alice method=jwt token={fingerprint(self.kept_token())}", PG.log_text()[offset:])

    def assert_refused(self, command, reason):
        offset = len(PG.log_text())
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                              env=self.psql_env())
        time.sleep(0.1)
        self.assertNotEqual(done.returncode, 0, done.stdout)
        self.assertEqual(done.stdout, "")
        self.assertIn("PAM authentication failed", done.stderr)
        self.assertIn(reason, PG.log_text()[offset:])
        self.assert_no_browser_since_the_sign_in()

    def test_alices_token_does_not_log_in_bob(self):
        self.assert_refused(psql_through_the_helper(user="bob"),
                            "claim preferred_username is 'alice', PAM user is 'bob'")

    def test_a_line_for_another_audience_refuses_the_token(self):
        self.assert_refused(psql_through_the_helper(database="reports"), "audience other-api not in the token's aud")

    def test_zz_no_token_in_the_database_log(self):
        token = self.kept_token()
        self.assertIn(fingerprint(token), PG.log_text())
        self.assertNotIn(token, PG.log_text())


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("the end-to-end tests need root: they write /etc/pam.d/<service> and run PostgreSQL as postgres")
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--token-helper", help="pam_oauth2_token (default: the build tree's, or the installed one)")
    options, rest = parser.parse_known_args()
    TOKEN_HELPER = os.path.abspath(options.token_helper or (
        os.path.join(os.path.dirname(os.path.abspath(options.module)), "..", "tools", "pam_oauth2_token")
        if os.sep in options.module else "/usr/bin/pam_oauth2_token"))
    # A bare name (pam_oauth2.so) means the installed module, found by libpam in its own directory.
    MODULE = os.path.abspath(options.module) if os.sep in options.module else options.module
    unittest.main(argv=[sys.argv[0], "-v", *rest])
