#!/usr/bin/env python3
"""pam_oauth2_check without a network: exit statuses, the option listing, and output that no token
can use against the terminal.

    test_pam_oauth2_check.py build/tools/pam_oauth2_check
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

CHECK = None


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def run(*args, token="token"):
    done = subprocess.run([CHECK, *args], input=token + "\n", capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout, done.stderr


class ExitStatuses(unittest.TestCase):
    def test_configuration_error_is_3(self):
        code, out, _ = run("alice", "group=dba")
        self.assertEqual(code, 3, out)
        self.assertIn("configuration error: unknown option 'group'", out)

    def test_a_conf_file_that_is_not_a_configuration_is_not_printed(self):
        # Run as root, conf= may name /etc/shadow: the error names the line, never its content.
        directory = tempfile.mkdtemp(prefix="pam_oauth2_check_shadow_")
        try:
            path = os.path.join(directory, "shadow")
            with open(path, "w") as f:
                f.write("root:$6$S3cretSalt$S3cretHash0123456789:19000:0:99999:7:::\n"
                        "client_secret: s3cr3t-typo\n")
            os.chmod(path, 0o640)
            for args in (("alice", f"conf={path}"), ("--explain", "--json", "alice", f"conf={path}")):
                code, out, err = run(*args)
                self.assertEqual(code, 3, out + err)
                self.assertIn(f"conf file {path} line 1 is not key = value", out)
                for secret in ("S3cret", "$6$", "root:", "s3cr3t"):
                    self.assertNotIn(secret, out + err)
        finally:
            shutil.rmtree(directory)

    def test_the_configured_cache_dir_is_left_alone_without_use_cache(self):
        # Run as root with cache_dir=/run/user, the tool adopted /run/user/0 and pruned it. By default
        # it now uses a private cache under TMPDIR, removed at exit; --use-cache is the old behaviour
        # (the module's), which creates <cache_dir>/<euid> here.
        directory = tempfile.mkdtemp(prefix="pam_oauth2_check_cache_")
        try:
            cache, scratch = os.path.join(directory, "cache"), os.path.join(directory, "tmp")
            os.mkdir(cache, 0o755)
            os.mkdir(scratch, 0o700)
            args = ["alice", "userinfo_url=https://idp.invalid/u", "timeout=1", "connect_timeout=1",
                    f"cache_dir={cache}", "cache_ttl=60"]

            def check(*flags):
                done = subprocess.run([CHECK, *flags, *args], input="a-well-formed-token\n", capture_output=True,
                                      text=True, timeout=30, env=dict(os.environ, TMPDIR=scratch))
                self.assertEqual(done.returncode, 2, done.stdout + done.stderr)

            check()
            self.assertEqual(os.listdir(cache), [])
            self.assertEqual(os.listdir(scratch), [])  # the private cache went at exit
            check("--use-cache")
            self.assertEqual(os.listdir(cache), [str(os.geteuid())])
            self.assertEqual(os.listdir(scratch), [])
        finally:
            shutil.rmtree(directory)

    def test_refused_token_is_1(self):
        code, out, _ = run("alice", "userinfo_url=https://idp.invalid/u", token="not a token")
        self.assertEqual(code, 1, out)
        self.assertIn("outside the RFC 6750 token set", out)

    def test_usage_is_4(self):
        code, _, err = run()
        self.assertEqual(code, 4)
        self.assertIn("usage:", err)


class CommandLine(unittest.TestCase):
    def test_help_and_version(self):
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        for part in ("usage:", "--service NAME", "--pam-dir DIR", "--stage", "Exit status"):
            self.assertIn(part, out)
        code, out, _ = run("--version")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^pam_oauth2_check \d+\.\d+\.\d+\n$")

    def test_every_misuse_is_4_with_the_usage(self):
        for args, problem in ((("--bogus", "alice"), "unknown or misplaced --bogus"),
                              (("--service",), "--service needs a value"),
                              (("--service", "pg"), "no USER given"),
                              (("--stage", "auth", "alice", "verify=jwt"), "--stage and --pam-dir go with --service"),
                              (("--service", "pg", "alice", "verify=jwt"), "options come from the service file"),
                              (("--service", "pg", "--stage", "session", "alice"), "--stage is auth or account"),
                              (("--service", "../shadow", "alice"), "a service name, not a path"),
                              (("--list-options", "extra"), "unknown or misplaced --list-options")):
            code, out, err = run(*args)
            self.assertEqual(code, 4, (args, out, err))
            self.assertIn(problem, err, args)
            self.assertIn("usage: pam_oauth2_check", err, args)


class FromServiceFile(unittest.TestCase):
    """--service reads the pam_oauth2.so line of a pam.d file as libpam hands it to the module."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pam_oauth2_check_pamd_")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def check(self, *args, token="not a token"):
        return run("--debug", "--pam-dir", self.dir, *args, token=token)

    def test_brackets_continuations_comments_and_a_stack_of_other_modules(self):
        self.write("pg", "# the database\n"
                         "auth  requisite  pam_nologin.so\n"
                         "auth  [success=done new_authtok_reqd=done default=die]  pam_oauth2.so \\\n"
                         "      [prompt=Token a\\]b: ]  userinfo_url=https://idp.invalid/u   # trailing comment\n"
                         "auth  required  pam_deny.so\n"
                         "account required pam_permit.so\n")
        code, out, err = self.check("--service", "pg", "alice")
        self.assertEqual(code, 1, out + err)  # refused by the token syntax rule: no network needed
        self.assertIn("line 3: auth [success=done new_authtok_reqd=done default=die] pam_oauth2.so "
                      "[prompt=Token a]b: ] [userinfo_url=https://idp.invalid/u]", out)
        self.assertIn('prompt="Token a]b: "', err)
        self.assertIn("userinfo_url=https://idp.invalid/u", err)

    def test_conf_file_named_in_the_line_is_read(self):
        conf = self.write("pam_oauth2.conf", "userinfo_url = https://idp.invalid/u\ndeny_users = alice\n")
        self.write("pg", f"auth sufficient /usr/lib/x86_64-linux-gnu/security/pam_oauth2.so conf={conf}\n")
        code, out, err = self.check("--service", "pg", "alice", token="a-well-formed-token")
        self.assertEqual(code, 1, out + err)
        self.assertIn("deny_users", out)

    def test_include_substack_and_at_include_are_followed(self):
        self.write("common-oauth", "auth required pam_oauth2.so userinfo_url=https://idp.invalid/common\n")
        for control in ("include", "substack"):
            self.write("pg", f"auth {control} common-oauth\naccount required pam_permit.so\n")
            code, out, err = self.check("--service", "pg", "alice")
            self.assertEqual(code, 1, out + err)
            self.assertIn("common-oauth line 1", out)
            self.assertIn("userinfo_url=https://idp.invalid/common", err)
        self.write("pg", "@include common-oauth\n")
        code, out, err = self.check("--service", "pg", "alice")
        self.assertIn("common-oauth line 1", out)

    def test_relative_includes_are_found_below_the_service_directory_as_libpam_does(self):
        # libpam (_pam_open_config_file) reads a name that does not start with '/' below the
        # configuration directory, also when it holds a '/'; never relative to the working directory.
        os.mkdir(os.path.join(self.dir, "oauth"))
        self.write("oauth/common", "auth required pam_oauth2.so userinfo_url=https://idp.invalid/below\n")
        elsewhere = tempfile.mkdtemp(prefix="pam_oauth2_check_cwd_")
        try:
            os.mkdir(os.path.join(elsewhere, "oauth"))
            with open(os.path.join(elsewhere, "oauth", "common"), "w") as f:
                f.write("auth required pam_oauth2.so userinfo_url=https://idp.invalid/cwd\n")
            for line in ("auth include oauth/common", "auth substack oauth/common", "@include oauth/common"):
                self.write("pg", line + "\n")
                done = subprocess.run([os.path.abspath(CHECK), "--debug", "--pam-dir", self.dir, "--service", "pg", "alice"],
                                      input="not a token\n", capture_output=True, text=True, timeout=30,
                                      cwd=elsewhere)
                self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
                self.assertIn(os.path.join(self.dir, "oauth/common") + " line 1", done.stdout)
                self.assertIn("https://idp.invalid/below", done.stderr)
                self.assertNotIn("https://idp.invalid/cwd", done.stderr)
            # An absolute name is read as it is.
            self.write("pg", f"auth include {elsewhere}/oauth/common\n")
            code, out, err = self.check("--service", "pg", "alice")
            self.assertIn("https://idp.invalid/cwd", err)
            # A name that is not there is a configuration error naming where libpam would look.
            self.write("pg", "auth include oauth/missing\n")
            code, out, _ = self.check("--service", "pg", "alice")
            self.assertEqual(code, 3, out)
            self.assertIn("cannot read " + os.path.join(self.dir, "oauth/missing"), out)
        finally:
            shutil.rmtree(elsewhere)

    def test_several_lines_use_the_first_and_say_so(self):
        self.write("pg", "auth sufficient pam_oauth2.so userinfo_url=https://idp.invalid/first\n"
                         "-auth sufficient pam_oauth2.so userinfo_url=https://idp.invalid/second\n")
        code, out, err = self.check("--service", "pg", "alice")
        self.assertIn("note:     2 auth lines load pam_oauth2.so; this is the first", out)
        self.assertIn("https://idp.invalid/first", err)
        self.assertNotIn("https://idp.invalid/second", err)

    def test_stage_picks_the_line(self):
        self.write("pg", "auth required pam_oauth2.so userinfo_url=https://idp.invalid/u\n"
                         "account required pam_oauth2.so timeout=fast\n")
        code, out, _ = self.check("--service", "pg", "--stage", "account", "alice")
        self.assertEqual(code, 3, out)
        self.assertIn("option timeout", out)

    def test_missing_files_and_lines_are_configuration_errors(self):
        code, out, _ = self.check("--service", "nothing-here", "alice")
        self.assertEqual(code, 3, out)
        self.assertIn("cannot read", out)
        self.write("pg", "auth required pam_unix.so\n")
        code, out, _ = self.check("--service", "pg", "alice")
        self.assertEqual(code, 3, out)
        self.assertIn("no auth line loads pam_oauth2.so", out)
        self.write("loop", "auth include loop\n")
        code, out, _ = self.check("--service", "loop", "alice")
        self.assertEqual(code, 3, out)
        self.assertIn("a loop?", out)


class OptionListing(unittest.TestCase):
    def test_every_option_with_its_default(self):
        code, out, _ = run("--list-options")
        self.assertEqual(code, 0)
        listing = {option["name"]: option for option in json.loads(out)}
        self.assertGreaterEqual(len(listing), 34)
        self.assertEqual(listing["timeout"]["default"], "5")
        self.assertEqual(listing["deny_users"]["default"], "root,postgres")
        self.assertEqual(listing["allow_any_audience"]["default"], "off")
        self.assertTrue(listing["client_secret"]["secret"])
        self.assertEqual(listing["client_secret"]["source"], "conf file only")


class HostileTokens(unittest.TestCase):
    def test_escape_sequences_and_newlines_are_printed_escaped(self):
        # An unsigned token whose alg holds a terminal escape and a forged result line: refused before
        # any key is fetched, and the reason must not reach the terminal raw.
        header = b64(json.dumps({"alg": "\x1b[2J\nresult:   granted\x07"}).encode())
        token = f"{header}.{b64(b'{}')}.AAAA"
        code, out, _ = run("alice", "verify=jwt", "issuer=https://idp.invalid", "audience=postgres", token=token)
        self.assertEqual(code, 1, out)
        self.assertNotIn("\x1b", out)
        self.assertNotIn("\x07", out)
        self.assertEqual([line for line in out.splitlines() if line.startswith("result:")], ["result:   denied"])
        self.assertIn("\\x1b[2J\\x0aresult:", out)

    def test_explain_and_json_escape_hostile_claims(self):
        # A JWT-shaped token whose header and claims carry terminal escapes, a forged line and bytes
        # above ASCII: decoded and shown, never raw. (Its keys cannot be fetched: unavailable.)
        header = b64(json.dumps({"alg": "RS256", "kid": "\x1b]0;owned\x07"}).encode())
        claims = b64(b'{"preferred_username": "alice\\u001b[2J\\nresult\\n", "exp": 4102444800, "x": "\xc3\xa9"}')
        token = f"{header}.{claims}.AAAA"
        args = ("alice", "verify=jwt", "issuer=https://idp.invalid", "audience=postgres", "timeout=1",
                "connect_timeout=1", "jwks_url=https://127.0.0.1:9/jwks")
        code, out, _ = run("--explain", *args, token=token)
        self.assertEqual(code, 2, out)
        self.assertTrue(out.isascii())
        for raw in ("\x1b", "\x07"):
            self.assertNotIn(raw, out)
        self.assertIn("x = \\xc3\\xa9", out)
        self.assertIn("preferred_username = alice\\x1b[2J\\x0aresult\\x0a", out)
        self.assertIn("exp = 4102444800 = 2100-01-01 00:00:00 UTC (in ", out)
        self.assertEqual([line for line in out.splitlines() if line.startswith("result")], ["result"])
        code, out, _ = run("--json", *args, token=token)
        self.assertEqual(code, 2, out)
        self.assertTrue(out.isascii())
        report = json.loads(out)
        self.assertEqual(report["token"]["claims"]["preferred_username"], "alice\x1b[2J\nresult\n")
        self.assertEqual(report["token"]["header"]["kid"], "\x1b]0;owned\x07")
        self.assertNotIn(token, out)


class DryRunWithoutNetwork(unittest.TestCase):
    def test_configuration_error_is_3_and_usage_errors_are_4(self):
        code, out, _ = run("--dry-run", "verify=jwt", "group=dba")
        self.assertEqual(code, 3, out)
        self.assertIn("FAIL  configuration: unknown option 'group'", out)
        for args, problem in ((("--dry-run", "--explain", "verify=jwt"), "explains every check already"),
                              (("--dry-run", "--debug", "verify=jwt"), "--debug goes with a login"),
                              (("--dry-run", "--service", "pg", "verify=jwt"), "no other argument")):
            code, _, err = run(*args)
            self.assertEqual(code, 4, args)
            self.assertIn(problem, err)

    def test_unreachable_provider_is_2(self):
        code, out, _ = run("--dry-run", "--json", "verify=userinfo", "userinfo_url=https://127.0.0.1:9/me",
                           "timeout=1", "connect_timeout=1")
        self.assertEqual(code, 2, out)
        report = json.loads(out)
        self.assertFalse(report["holds"])
        endpoint = next(c for c in report["checks"] if c["check"].startswith("userinfo endpoint"))
        self.assertFalse(endpoint["holds"])
        self.assertEqual(report["exchanges"][0]["url"], "https://127.0.0.1:9/me")

class RemoteHost(unittest.TestCase):
    """--rhost is the PAM_RHOST the core's login() sees: the decision line's rhost= field."""

    def test_rhost_reaches_the_decision_line(self):
        args = ["alice", "userinfo_url=https://idp.invalid/u"]
        code, _, err = run("--rhost", "203.0.113.9", *args, token="not a token")
        self.assertEqual(code, 1, err)  # refused by the token syntax rule: no network needed
        self.assertRegex(err, r"log: result=denied .* rhost=203\.0\.113\.9 ")
        code, _, err = run(*args, token="not a token")
        self.assertRegex(err, r"log: result=denied .* rhost=- ")
        # A hostile value cannot forge a field: it is quoted and escaped like any other.
        code, _, err = run("--rhost", "x user=root", *args, token="not a token")
        self.assertIn('rhost="x user=root"', err)

    def test_rhost_misuse_is_4(self):
        for argv in (["--rhost"], ["--rhost", "", "alice", "userinfo_url=https://idp.invalid/u"],
                     ["--dry-run", "--rhost", "h", "userinfo_url=https://idp.invalid/u"]):
            code, _, err = run(*argv)
            self.assertEqual(code, 4, argv)
            self.assertIn("usage:", err)
        code, out, _ = run("--help")
        self.assertIn("--rhost HOST", out)


if __name__ == "__main__":
    CHECK = sys.argv.pop(1)
    unittest.main(argv=[sys.argv[0], "-v"])
