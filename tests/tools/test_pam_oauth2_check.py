#!/usr/bin/env python3
"""pam_oauth2_check without a network: exit statuses, the option listing, and output that no token
can use against the terminal.

    test_pam_oauth2_check.py build/tools/pam_oauth2_check
"""

import base64
import json
import subprocess
import sys
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

    def test_refused_token_is_1(self):
        code, out, _ = run("alice", "userinfo_url=https://idp.invalid/u", token="not a token")
        self.assertEqual(code, 1, out)
        self.assertIn("outside the RFC 6750 token set", out)

    def test_usage_is_4(self):
        code, _, err = run()
        self.assertEqual(code, 4)
        self.assertIn("usage:", err)


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


if __name__ == "__main__":
    CHECK = sys.argv.pop(1)
    unittest.main(argv=[sys.argv[0], "-v"])
