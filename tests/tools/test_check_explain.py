#!/usr/bin/env python3
"""pam_oauth2_check --explain, --json and --dry-run against the real oidc-provider test identity
provider over HTTPS: a granted, a refused and an unavailable login of each method, and the dry run
of a good configuration, an unreachable JWKS, a world-writable conf file and an untrusted CA.

    test_check_explain.py build/tools/pam_oauth2_check

Starts the provider on loopback with a throwaway CA and stops it by its pid; writes only below a
temporary directory.
"""

import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import fixtures  # noqa: E402
import test_ca  # noqa: E402

CHECK = None
WS = IDP = None


def setUpModule():
    global WS, IDP
    WS, IDP = fixtures.start_provider()


def tearDownModule():
    fixtures.stop_provider(WS, IDP)


def closed_url(path):
    """An https URL on a loopback port nobody listens on."""
    return f"https://127.0.0.1:{fixtures.free_port()}{path}"


def common():
    return [f"ca_file={WS.ca}", "timeout=2", "connect_timeout=1", f"cache_dir={WS.cache_dir}"]


def jwt_args(*extra):
    return ["verify=jwt", f"issuer={IDP.issuer}", "audience=postgres", *common(), *extra]


def userinfo_args(*extra):
    return ["verify=userinfo", f"userinfo_url={IDP.userinfo_url}", "cache_ttl=0", *common(), *extra]


def introspect_args(*extra, introspection_url=None, userinfo_url=None):
    # The endpoints of a file holding a client secret are the file's: arguments may not move them.
    conf = WS.write_conf("introspect.conf", "client_id = pg-introspect\nclient_secret = pg-introspect-secret\n"
                         f"introspection_url = {introspection_url or IDP.introspection_url}\nissuer = {IDP.issuer}\n"
                         + (f"userinfo_url = {userinfo_url}\n" if userinfo_url else ""))
    return ["verify=introspect", f"conf={conf}", "allow_any_audience", "cache_ttl=0", *common(), *extra]


def check(*args, token=None):
    # --use-cache: these cases read and fill WS.cache_dir across runs on purpose.
    done = subprocess.run([CHECK, "--use-cache", *args], input=(token or "") + "\n", capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def steps_of(report, kind):
    return [step for step in report["steps"] if step["step"] == kind]


class ExplainJson(unittest.TestCase):
    """--json parsed and asserted field by field; --explain shows the same steps as text."""

    def explain(self, user, args, token):
        code, out, err = check("--json", user, *args, token=token)
        report = json.loads(out)
        code_text, text, _ = check("--explain", user, *args, token=token)
        self.assertEqual(code_text, code, text)
        self.assertNotIn(token, out)
        self.assertNotIn(token, text)
        self.assertNotIn("pg-introspect-secret", out + text)
        return code, report, text

    def assert_result(self, report, result, pam_code_name, method):
        self.assertEqual(report["result"]["result"], result)
        self.assertEqual(report["result"]["pam_code_name"], pam_code_name)
        self.assertEqual(report["result"]["method"], method)

    def option(self, report, name):
        return next(row for row in report["configuration"]["options"] if row["name"] == name)

    # jwt
    def test_jwt_granted(self):
        token = IDP.mint("alice", resource="postgres", scope="openid profile groups db")
        code, report, text = self.explain("alice", jwt_args(), token)
        self.assertEqual(code, 0, text)
        self.assert_result(report, "granted", "PAM_SUCCESS", "jwt")
        self.assertEqual(report["result"]["pam_code"], 0)
        self.assertEqual(self.option(report, "audience"), {"name": "audience", "value": "postgres",
                                                           "origin": "argument", "default": "", "secret": False})
        self.assertEqual(self.option(report, "leeway")["origin"], "default")
        self.assertEqual(report["token"]["bytes"], len(token))
        self.assertEqual(report["token"]["header"]["kid"], "rsa-1")
        self.assertEqual(report["token"]["claims"]["preferred_username"], "alice")
        self.assertEqual(report["token"]["times"]["exp"]["epoch"], report["token"]["claims"]["exp"])
        self.assertRegex(report["token"]["times"]["exp"]["utc"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")
        self.assertRegex(report["token"]["times"]["exp"]["relative"], r"^in \d+ min \d+ s$")
        self.assertEqual(steps_of(report, "method")[0], {"step": "method", "method": "jwt", "applies": True,
                                                         "why": "the token looks like a JWT"})
        verify = steps_of(report, "verify")[0]
        self.assertEqual(verify["status"], "valid")
        self.assertIn("kid=rsa-1 kty=RSA alg=RS256", verify["signing_key"])
        rules = {step["rule"]: step["holds"] for step in steps_of(report, "rule")}
        self.assertEqual(rules, {"access token": True, "lifetime": True, "issuer": True, "audience": True,
                                 "username": True})
        self.assertIn("valid_until", report["result"])
        for line in ("rule audience: holds", "signed by the JWKS key kid=rsa-1",
                     "the module returns PAM_SUCCESS (0)", "audience               = postgres   (argument)"):
            self.assertIn(line, text)

    def test_jwt_refused_names_the_failing_rule_and_the_cache(self):
        token = IDP.mint("alice", resource="postgres", scope="openid profile groups db")
        check("alice", *jwt_args(), token=token)  # the keys are now in the cache
        code, report, text = self.explain("bob", jwt_args(), token)
        self.assertEqual(code, 1, text)
        self.assert_result(report, "denied", "PAM_AUTH_ERR", "jwt")
        documents = steps_of(report, "document")
        self.assertEqual([d["document"] for d in documents], ["discovery document", "JWKS"])
        self.assertTrue(all(d["from"] == "cache" and d["age_seconds"] >= 0 for d in documents), documents)
        self.assertEqual(steps_of(report, "http"), [])
        failing = [step for step in steps_of(report, "rule") if not step["holds"]]
        self.assertEqual(failing, [{"step": "rule", "rule": "username", "holds": False,
                                    "problem": "claim preferred_username is 'alice', PAM user is 'bob'"}])
        self.assertIn("rule username: FAILS: claim preferred_username is 'alice', PAM user is 'bob'", text)
        self.assertIn("JWKS " + IDP.jwks_url + ": from cache", text)

    def test_jwt_unavailable_shows_the_failed_exchange(self):
        token = IDP.mint("alice", resource="postgres")
        url = closed_url("/jwks")
        code, report, text = self.explain("alice", jwt_args(f"jwks_url={url}"), token)
        self.assertEqual(code, 2, text)
        self.assert_result(report, "unavailable", "PAM_AUTHINFO_UNAVAIL", "jwt")
        http = steps_of(report, "http")
        self.assertEqual(len(http), 1, http)
        self.assertEqual((http[0]["request"], http[0]["url"]), ("GET", url))
        self.assertIn("error", http[0])
        self.assertEqual(steps_of(report, "verify")[0]["status"], "unavailable")
        self.assertEqual(steps_of(report, "rule"), [])
        self.assertIn(f"http GET {url} -> no answer:", text)

    # userinfo
    def test_userinfo_granted_with_the_providers_claims(self):
        token = IDP.mint("alice")
        code, report, text = self.explain("alice", userinfo_args(), token)
        self.assertEqual(code, 0, text)
        self.assert_result(report, "granted", "PAM_SUCCESS", "userinfo")
        self.assertEqual(report["token"]["form"], "opaque")
        self.assertNotIn("claims", report["token"])
        http = steps_of(report, "http")[0]
        self.assertEqual((http["request"], http["url"], http["status"]), ("GET", IDP.userinfo_url, 200))
        self.assertIsInstance(http["ms"], int)
        verify = steps_of(report, "verify")[0]
        self.assertEqual(verify["claims"]["preferred_username"], "alice")
        self.assertEqual([step["rule"] for step in steps_of(report, "rule")], ["lifetime", "username"])

    def test_userinfo_refused_revoked_token(self):
        token = IDP.mint("alice")
        IDP.revoke(token)
        code, report, text = self.explain("alice", userinfo_args(), token)
        self.assertEqual(code, 1, text)
        self.assert_result(report, "denied", "PAM_AUTH_ERR", "userinfo")
        self.assertEqual(steps_of(report, "http")[0]["status"], 401)
        self.assertEqual(steps_of(report, "verify")[0]["status"], "invalid")

    def test_userinfo_unavailable(self):
        url = closed_url("/me")
        code, report, text = self.explain("alice", userinfo_args(f"userinfo_url={url}"), IDP.mint("alice"))
        self.assertEqual(code, 2, text)
        self.assert_result(report, "unavailable", "PAM_AUTHINFO_UNAVAIL", "userinfo")
        self.assertEqual(self.option(report, "userinfo_url")["value"], url)

    def test_verdict_cache_written_then_hit(self):
        token = IDP.mint("alice")
        _, first, _ = self.explain("alice", userinfo_args("cache_ttl=60"), token)
        self.assertEqual(steps_of(first, "verdict cache")[0], {"step": "verdict cache", "hit": False})
        self.assertIn({"step": "verdict cache", "written": True, "for_seconds": 60}, first["steps"])
        code, second, text = self.explain("alice", userinfo_args("cache_ttl=60"), token)
        self.assertEqual(code, 0, text)
        hit = steps_of(second, "verdict cache")[0]
        self.assertTrue(hit["hit"])
        self.assertRegex(hit["detail"], r"verdict from cache \(\d+ s old\)")
        self.assertEqual(steps_of(second, "http"), [])

    # introspect
    def test_introspect_granted_with_secret_redacted_and_its_origin(self):
        token = IDP.mint("alice")
        code, report, text = self.explain("alice", introspect_args(), token)
        self.assertEqual(code, 0, text)
        self.assert_result(report, "granted", "PAM_SUCCESS", "introspect")
        secret = self.option(report, "client_secret")
        self.assertEqual(secret["value"], "<redacted>")
        self.assertTrue(secret["secret"])
        self.assertRegex(secret["origin"], r"^conf file .*introspect\.conf line 2$")
        self.assertRegex(self.option(report, "client_id")["origin"], r"^conf file .*introspect\.conf line 1$")
        http = steps_of(report, "http")[0]
        self.assertEqual((http["request"], http["status"]), ("POST", 200))
        self.assertEqual(steps_of(report, "verify")[0]["claims"]["active"], True)

    def test_introspect_refused_inactive(self):
        token = IDP.mint("alice")
        IDP.revoke(token)
        code, report, text = self.explain("alice", introspect_args(), token)
        self.assertEqual(code, 1, text)
        self.assert_result(report, "denied", "PAM_AUTH_ERR", "introspect")
        self.assertIn("not active", steps_of(report, "verify")[0]["detail"])

    def test_introspect_unavailable(self):
        url = closed_url("/token/introspection")
        code, report, text = self.explain("alice", introspect_args(introspection_url=url), IDP.mint("alice"))
        self.assertEqual(code, 2, text)
        self.assert_result(report, "unavailable", "PAM_AUTHINFO_UNAVAIL", "introspect")

    def test_service_file_and_configuration_error_in_json(self):
        pam_dir = WS.path("pam.d")
        os.makedirs(pam_dir, exist_ok=True)
        with open(os.path.join(pam_dir, "pg"), "w") as f:
            f.write("auth required pam_env.so\n"
                    "auth [success=done default=die] pam_oauth2.so " + " ".join(jwt_args()) + "\n"
                    "account required pam_permit.so\n")
        token = IDP.mint("alice", resource="postgres")
        code, out, _ = check("--json", "--service", "pg", "--pam-dir", pam_dir, "alice", token=token)
        report = json.loads(out)
        self.assertEqual(code, 0, out)
        self.assertEqual(report["service"]["control"], "[success=done default=die]")
        self.assertEqual(report["service"]["line_number"], 2)
        self.assertEqual(report["service"]["arguments"], jwt_args())
        code, out, _ = check("--json", "alice", "group=dba", token=token)
        report = json.loads(out)
        self.assertEqual(code, 3)
        self.assertEqual(report["result"], {"result": "config_error", "reason": "unknown option 'group'",
                                            "pam_code": 3, "pam_code_name": "PAM_SERVICE_ERR"})


class DryRun(unittest.TestCase):
    def dry(self, *args):
        code, out, err = check("--dry-run", "--json", *args)
        report = json.loads(out)
        code_text, text, _ = check("--dry-run", *args)
        self.assertEqual(code_text, code, text)
        return code, {c["check"]: c for c in report["checks"]}, report, text

    def test_good_configuration_holds(self):
        code, checks, report, text = self.dry("verify=jwt,userinfo,introspect",
                                              *introspect_args(userinfo_url=IDP.userinfo_url)[1:], "audience=postgres")
        self.assertEqual(code, 0, text)
        self.assertTrue(report["holds"])
        self.assertTrue(all(c["holds"] for c in checks.values()), checks)
        keys = checks[f"jwt signing keys of {IDP.issuer}"]
        self.assertRegex(keys["detail"], r"^2 usable signing keys: rsa-1 RSA, ec-1 EC$")
        self.assertIn("refused as it should be", checks[f"userinfo endpoint {IDP.userinfo_url}"]["detail"])
        self.assertIn("not active", checks[f"introspect endpoint {IDP.introspection_url}"]["detail"])
        conf = next(c for name, c in checks.items() if name.startswith("conf file "))
        self.assertRegex(conf["detail"], r"^owner root:postgres, mode 0640, not world-readable")
        self.assertRegex(checks["TLS trust"]["detail"], r"^\d+ answers verified with ca_file=")
        self.assertRegex(checks["clock"]["detail"], r"the provider's Date (agrees|is \d s (ahead|behind))")
        self.assertNotIn("pg-introspect-secret", json.dumps(report) + text)
        self.assertIn("result: every check holds", text)

    def test_unreachable_jwks(self):
        url = closed_url("/jwks")
        code, checks, report, text = self.dry(*jwt_args(f"jwks_url={url}"))
        self.assertEqual(code, 2, text)
        self.assertFalse(report["holds"])
        keys = checks[f"jwt signing keys of {IDP.issuer}"]
        self.assertFalse(keys["holds"])
        self.assertIn(url, keys["detail"])
        self.assertIn("FAIL  jwt signing keys of", text)

    def test_world_writable_conf_file(self):
        path = WS.write_conf("writable.conf", "client_id = pg-introspect\n")
        os.chmod(path, 0o646)
        code, checks, report, text = self.dry(*jwt_args(f"conf={path}"))
        self.assertEqual(code, 3, text)
        self.assertEqual(list(checks), ["configuration"])
        self.assertIn("writable", checks["configuration"]["detail"])
        self.assertFalse(checks["configuration"]["holds"])

    def test_untrusted_ca(self):
        other_dir = WS.path("other-ca")
        os.makedirs(other_dir, exist_ok=True)
        other = test_ca.make_ca(other_dir)
        args = [a if not a.startswith("ca_file=") else f"ca_file={other}" for a in jwt_args()]
        code, checks, report, text = self.dry(*args)
        self.assertEqual(code, 2, text)
        self.assertFalse(checks["TLS trust"]["holds"])
        self.assertIn(f"not trusted with ca_file={other}", checks["TLS trust"]["detail"])
        self.assertFalse(checks[f"jwt signing keys of {IDP.issuer}"]["holds"])


if __name__ == "__main__":
    CHECK = sys.argv.pop(1)
    unittest.main(argv=[sys.argv[0], "-v"])
