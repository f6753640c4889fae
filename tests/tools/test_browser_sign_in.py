#!/usr/bin/python3
"""pam_oauth2_token's browser sign-in (RFC 8252: authorization code with PKCE on a loopback redirect)
against the real oidc-provider test identity provider, with Debian's chromium headless (driven by
python3-selenium and chromium-driver) on oidc-provider's own login and consent pages: the sign-in,
the silent second call, every refused answer (wrong state, wrong iss, denial in the browser, a code
the token endpoint refuses, the deadline, stray requests), PKCE against the provider, and the flow
choice (device flow where chosen, auto without a display).

    /usr/bin/python3 test_browser_sign_in.py build/tools/pam_oauth2_token build/tools/pam_oauth2_check

Run with Debian's /usr/bin/python3: selenium is Debian's python3-selenium. Starts the provider and the
browser itself and stops both by their pid; every sign-in lives under a temporary HOME.
"""

import base64
import hashlib
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import browser_sign_in  # noqa: E402
import fixtures  # noqa: E402

TOKEN = CHECK = None
WS = IDP = None
CLIENT = "pg-desktop"
# No graphical session and no $BROWSER: what auto sees is decided by each test.
QUIET = ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")


def setUpModule():
    global WS, IDP
    WS, IDP = fixtures.start_provider()


def tearDownModule():
    fixtures.stop_provider(WS, IDP)


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def browse(url, timeout=10):
    """A plain GET (not the browser): (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Sign(object):
    """One run of the helper with the browser flow: the URL it shows, then its end."""

    def __init__(self, helper, *args):
        env = {k: v for k, v in helper.env.items() if k not in QUIET}
        self.process = subprocess.Popen(helper.command + ["--store", "file", *args], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines = []
        self.shown = threading.Event()
        self.url = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line)
            if self.url is None and line.startswith("https://") and "/auth?" in line:
                self.url = line.strip()
                self.shown.set()
        self.shown.set()

    def wait_for_url(self):
        self.shown.wait(30)
        if self.url is None:
            self.finish()
            raise AssertionError("no sign-in address shown: " + "".join(self.lines))
        return self.url

    def parameter(self, name):
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query)[name][0]

    def redirect(self, **fields):
        """The request the browser would make to the redirect URI."""
        return self.parameter("redirect_uri") + "?" + urllib.parse.urlencode(fields)

    def finish(self, timeout=60):
        try:
            out = self.process.stdout.read()
            self.process.wait(timeout=timeout)
        finally:
            fixtures.stop_process(self.process)
            self.reader.join(timeout=10)
            self.process.stdout.close()
            self.process.stderr.close()
        return self.process.returncode, out, "".join(self.lines)


class BrowserCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.driver = browser_sign_in.start_browser()

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()

    def setUp(self):
        self.helper = fixtures.TokenHelper(TOKEN, IDP, WS, client=CLIENT)
        self.addCleanup(self.helper.remove)
        self.forget_the_browser_session()

    def forget_the_browser_session(self):
        browser_sign_in.forget_sessions(self.driver)  # each test logs in anew

    def sign_in_page(self, url, user="alice", consent=True):
        return browser_sign_in.sign_in(self.driver, url, user, consent)

    def assert_accepted_by_the_module(self, token, user="alice"):
        done = subprocess.run([CHECK, user, "verify=jwt", f"issuer={IDP.issuer}", "audience=postgres",
                               f"ca_file={WS.ca}", f"cache_dir={WS.cache_dir}"],
                              input=token + "\n", capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stdout)

    def assert_refused(self, done, status, message):
        code, out, err = done
        self.assertEqual((code, out), (status, ""), err)
        self.assertIn(message, err)
        self.assertEqual(self.helper.cache_files(), [])


class BrowserSignIn(BrowserCase):
    def test_sign_in_in_the_browser_then_silent_calls(self):
        run = Sign(self.helper, "--flow", "browser", "--no-browser")
        url = run.wait_for_url()
        self.assertTrue(url.startswith(IDP.issuer + "/auth?"), url)
        self.assertEqual(run.parameter("code_challenge_method"), "S256")
        self.assertRegex(run.parameter("redirect_uri"), r"^http://127\.0\.0\.1:\d+/callback$")
        self.assertEqual(run.parameter("prompt"), "consent")  # offline_access asks for it (OIDC Core 11)
        # A stray request first (a favicon, a port scan): an error page, and the sign-in goes on.
        port = urllib.parse.urlsplit(run.parameter("redirect_uri")).port
        status, page = browse(f"http://127.0.0.1:{port}/favicon.ico")
        self.assertEqual(status, 404)
        self.assertIn("this request was ignored", page)
        landed = self.sign_in_page(url)
        code, out, err = run.finish()
        self.assertEqual(code, 0, err)
        self.assertIn("Signed in, you can close this tab.", landed)
        self.assertIn("signed in", err)
        token = out.strip()
        self.assertEqual(out, token + "\n")
        self.assertNotIn(token, err)
        self.assertEqual(claims(token)["aud"], "postgres")
        self.assertEqual(claims(token)["preferred_username"], "alice")
        self.assert_accepted_by_the_module(token)
        [path] = self.helper.cache_files()
        with open(path) as f:
            self.assertTrue(json.load(f)["refresh_token"])

        # Silent: the kept access token, then a refresh; no address shown, no listener.
        code, again, err, _ = self.helper.run("--store", "file", "--flow", "browser", "--no-browser")
        self.assertEqual((code, err, again), (0, "", out))
        code, refreshed, err, _ = self.helper.run("--store", "file", "--flow", "browser", "--no-browser",
                                                  "--min-valid", "3600")
        self.assertEqual((code, err), (0, ""))
        self.assertNotEqual(refreshed, out)
        self.assert_accepted_by_the_module(refreshed.strip())

    def test_browser_command_gets_the_address_as_one_argument(self):
        # A configured browser command: run without a shell, the address as its last argument.
        browser = browser_sign_in.BrowserCommand(self.helper.home)
        run = Sign(self.helper, "--flow", "auto", "--browser", f"{browser.path} --new-window")
        url = run.wait_for_url()
        arguments = browser.wait_for_call(timeout=10)
        self.assertEqual(arguments, ["--new-window", url])  # two arguments, the address whole
        second = arguments[1]
        self.sign_in_page(second)
        code, out, err = run.finish()
        self.assertEqual(code, 0, err)
        self.assert_accepted_by_the_module(out.strip())

    def test_two_callers_one_browser_sign_in_both_get_the_token(self):
        # Two calls of one profile at once (two psql started together): one tab, the other one waits.
        browser = browser_sign_in.BrowserCommand(self.helper.home)
        # A bounded sign-in: were both to open a tab, the one nobody answers ends in 20 s, not 300.
        runs = [Sign(self.helper, "--flow", "browser", "--browser", browser.path, "--sign-in-timeout", "20")
                for _ in range(2)]
        [url] = browser.wait_for_call(timeout=30)
        self.sign_in_page(url)
        (code1, out1, err1), (code2, out2, err2) = [run.finish() for run in runs]
        self.assertEqual((code1, code2), (0, 0), (err1, err2))
        self.assertEqual(out1, out2)  # the waiting one handed out what the first kept
        self.assertEqual(len(browser.calls()), 1)
        waited = [err for err in (err1, err2) if "waiting for it" in err]
        self.assertEqual(len(waited), 1, (err1, err2))
        self.assertIn("another call is signing in to this profile and account: waiting for it", waited[0])
        self.assert_accepted_by_the_module(out1.strip())

    def test_localhost_redirect_and_a_fixed_port(self):
        # Entra's shape: http://localhost registered; the listener still binds 127.0.0.1 only.
        with socket_on_a_port() as busy:
            with socket_on_a_port() as spare:
                pass
            run = Sign(self.helper, "--flow", "browser", "--no-browser", "--redirect-host", "localhost",
                       "--redirect-ports", f"{busy},{spare}")
            run.wait_for_url()
            self.assertEqual(run.parameter("redirect_uri"), f"http://localhost:{spare}/callback")
            self.sign_in_page(run.url)
            code, out, err = run.finish()
        self.assertEqual(code, 0, err)
        self.assertIn(f"ssh -L {spare}:127.0.0.1:{spare} to this host", err)
        self.assert_accepted_by_the_module(out.strip())

    def test_denied_in_the_browser(self):
        run = Sign(self.helper, "--flow", "browser", "--no-browser")
        landed = self.sign_in_page(run.wait_for_url(), consent=False)
        done = run.finish()
        self.assert_refused(done, 1, "the sign-in was denied: access_denied")
        self.assertIn("The sign-in did not complete: access_denied", landed)


class RefusedAnswers(BrowserCase):
    """Answers crafted by the test on the redirect: each refused with its message, nothing kept."""

    def crafted(self, *args, **fields):
        run = Sign(self.helper, "--flow", "browser", "--no-browser", *args)
        run.wait_for_url()
        values = {"state": run.parameter("state"), "iss": IDP.issuer, **fields}
        status, page = browse(run.redirect(**{k: v for k, v in values.items() if v is not None}))
        return run.finish(), status, page

    def test_wrong_state(self):
        done, status, page = self.crafted(code="anything", state="forged")
        self.assert_refused(done, 1, "the sign-in answer was refused: the answer on the redirect carries a wrong")
        self.assertEqual(status, 400)
        self.assertIn("wrong or no state", page)

    def test_wrong_or_missing_iss(self):
        done, status, _ = self.crafted(code="anything", iss="https://evil.example")
        self.assert_refused(done, 1, f"names issuer https://evil.example, not {IDP.issuer} (RFC 9207)")
        self.assertEqual(status, 400)
        done, _, _ = self.crafted(code="anything", iss=None)
        self.assert_refused(done, 1, f"names no issuer, not {IDP.issuer}")

    def test_code_the_token_endpoint_refuses(self):
        done, status, page = self.crafted(code="not-a-code-of-this-provider")
        self.assert_refused(done, 1, "the token endpoint refused the authorization code: invalid_grant")
        self.assertEqual(status, 400)

    def test_error_page_is_escaped(self):
        done, _, page = self.crafted(error="access_denied", error_description="<script>x</script>")
        self.assert_refused(done, 1, "the sign-in was denied: access_denied")
        self.assertNotIn("<script>", page)
        self.assertIn("&lt;script&gt;", page)

    def test_deadline(self):
        run = Sign(self.helper, "--flow", "browser", "--no-browser", "--sign-in-timeout", "2")
        run.wait_for_url()
        began = time.monotonic()
        done = run.finish()
        self.assertLess(time.monotonic() - began, 10)
        self.assert_refused(done, 1, "the sign-in was not completed in time: no answer from the browser within 2 s")

    def test_busy_redirect_port(self):
        with socket_on_a_port() as port:
            code, out, err, _ = self.helper.run("--store", "file", "--flow", "browser", "--no-browser",
                                                "--redirect-ports", str(port))
            self.assertEqual((code, out), (3, ""))
            self.assertIn(f"cannot listen on 127.0.0.1 for the sign-in answer: port {port} (", err)


class socket_on_a_port:
    def __enter__(self):
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        return self.sock.getsockname()[1]

    def __exit__(self, *_):
        self.sock.close()


class Pkce(BrowserCase):
    """The provider itself checks PKCE: a code taken with a wrong verifier is refused."""

    def code_for(self, challenge, redirect_port_holder):
        """Signs in as alice in the browser with our own redirect listener; the code it brings."""
        got = {}

        class Callback(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                got.update(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Callback)
        thread = threading.Thread(target=server.handle_request, daemon=True)
        thread.start()
        redirect = f"http://127.0.0.1:{server.server_port}/callback"
        redirect_port_holder.append(redirect)
        self.forget_the_browser_session()
        self.sign_in_page(IDP.issuer + "/auth?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": CLIENT, "redirect_uri": redirect, "scope": "openid",
            "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}))
        thread.join(timeout=10)
        server.server_close()
        self.assertIn("code", got)
        return got["code"][0]

    def exchange(self, code, redirect, code_verifier):
        data = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                                       "client_id": CLIENT, "code_verifier": code_verifier}).encode()
        tls = ssl.create_default_context(cafile=WS.ca)
        try:
            with urllib.request.urlopen(urllib.request.Request(IDP.issuer + "/token", data=data), context=tls,
                                        timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def test_wrong_verifier_is_refused_by_the_provider(self):
        verifier = secrets.token_urlsafe(32)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        redirects = []
        code = self.code_for(challenge, redirects)
        status, body = self.exchange(code, redirects[-1], secrets.token_urlsafe(32))
        self.assertEqual((status, body["error"]), (400, "invalid_grant"), body)
        # The same steps with the right verifier succeed: the refusal was the verifier's.
        code = self.code_for(challenge, redirects)
        status, body = self.exchange(code, redirects[-1], verifier)
        self.assertEqual(status, 200, body)
        self.assertIn("access_token", body)


class FlowChoice(unittest.TestCase):
    def setUp(self):
        self.helper = fixtures.TokenHelper(TOKEN, IDP, WS, client="pg-cli")
        self.addCleanup(self.helper.remove)
        for name in QUIET:
            self.helper.env.pop(name, None)

    def test_auto_without_a_display_is_the_device_flow_with_its_warning(self):
        code, out, err, user_code = self.helper.run("--store", "file", approve_as="alice")
        self.assertEqual(code, 0, err)
        self.assertIsNotNone(user_code)
        self.assertIn("Type the code only if you started this sign-in yourself", err)
        self.assertNotIn("/auth?", err)

    def test_device_flow_where_chosen_even_with_a_display(self):
        self.helper.env["DISPLAY"] = ":99"
        code, out, err, user_code = self.helper.run("--store", "file", "--flow", "device", approve_as="alice")
        self.assertEqual(code, 0, err)
        self.assertIsNotNone(user_code)

    def test_auto_with_a_display_is_the_browser(self):
        self.helper.env["BROWSER"] = "/bin/true"
        code, out, err, user_code = self.helper.run("--store", "file", "--sign-in-timeout", "1")
        self.assertIsNone(user_code)
        self.assertEqual(code, 1, err)
        self.assertIn("/auth?", err)  # pg-cli may not use the code flow, but the address was shown

    def test_a_profile_can_forbid_the_device_flow(self):
        code, out, err, user_code = self.helper.run("--store", "file", "--flow", "device",
                                                    "--allow-device-flow", "false")
        self.assertEqual((code, out, user_code), (3, "", None))
        self.assertIn("forbids the device flow (allow_device_flow = false)", err)
        code, out, err, user_code = self.helper.run("--store", "file", "--allow-device-flow", "false",
                                                    "--sign-in-timeout", "1", "--no-browser")
        self.assertIsNone(user_code)
        self.assertIn("/auth?", err)  # auto takes the browser where the device flow is forbidden

    def test_bad_values(self):
        for args, problem in ((("--flow", "web"), "--flow is not one of"),
                              (("--redirect-ports", "80,x"), "--redirect_ports must be a comma-separated list"),
                              (("--redirect-host", "example.com"), "--redirect_host is not one of"),
                              (("--allow-device-flow", "no"), "--allow_device_flow must be true or false"),
                              (("--sign-in-timeout", "0"), "--sign_in_timeout must be at least 1")):
            code, out, err, _ = self.helper.run(*args)
            self.assertEqual((code, out), (4, ""), err)
            self.assertIn(problem, err)


if __name__ == "__main__":
    TOKEN, CHECK = sys.argv.pop(1), sys.argv.pop(1)
    unittest.main(argv=[sys.argv[0], "-v"])
