#!/usr/bin/env python3
"""The pam_oauth2 demo: a local OpenID provider, a throwaway PostgreSQL, the module installed as a
PAM service, alice signing in with pam_oauth2_token (device flow) and psql logging in with her access
token instead of a password. Cleans up after itself.

    demo.py --module build/pam_oauth2/pam_oauth2.so
"""

import argparse
import os
import sys
import textwrap
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import fixtures  # noqa: E402

SERVICE = "pam_oauth2_demo"


def say(text):
    print("\n== " + text, flush=True)


def show(text):
    print(textwrap.indent(text.rstrip(), "   "), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--token-helper", help="pam_oauth2_token (default: beside the module's build tree)")
    options = parser.parse_args()
    module = os.path.abspath(options.module)
    token_helper = os.path.abspath(options.token_helper or
                                   os.path.join(os.path.dirname(module), "..", "tools", "pam_oauth2_token"))

    workspace = fixtures.Workspace(module)
    idp = pam = cluster = helper = None
    try:
        say("Starting a local OpenID provider (oidc-provider) over HTTPS, with a CA made just now")
        idp = fixtures.OidcProvider(workspace)
        show(f"issuer:            {idp.issuer}\nuserinfo endpoint: {idp.userinfo_url}")

        say(f"Installing the PAM service /etc/pam.d/{SERVICE} that uses pam_oauth2.so")
        args = ["log=stderr", "verify=jwt,userinfo", f"issuer={idp.issuer}", "audience=postgres",
                f"userinfo_url={idp.userinfo_url}", f"ca_file={workspace.ca}", "username_claim=preferred_username",
                "timeout=3", f"cache_dir={workspace.cache_dir}"]
        pam = fixtures.PamServiceFile(SERVICE, workspace.module, args)
        with open(pam.path) as f:
            show(f.read())

        say("Starting a throwaway PostgreSQL 15 whose pg_hba.conf sends TCP logins to that PAM service")
        cluster = fixtures.PostgresCluster(workspace, SERVICE)
        show(f"host all all 127.0.0.1/32 pam pamservice={SERVICE}      (port {cluster.port})")

        say("Creating roles alice and bob (no passwords) and a table with row level security per person")
        cluster.admin_sql("""
            CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN;
            CREATE TABLE notes (owner name NOT NULL DEFAULT current_user, body text NOT NULL);
            ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
            CREATE POLICY own_notes ON notes USING (owner = current_user);
            GRANT SELECT, INSERT ON notes TO alice, bob;
            INSERT INTO notes VALUES ('alice', 'alice: buy milk'), ('alice', 'alice: call Bob'),
                                     ('bob', 'bob: secret plans');
        """)
        show("notes: 2 rows owned by alice, 1 row owned by bob")

        say("alice signs in once with pam_oauth2_token (device flow) and psql connects through it:")
        helper = fixtures.TokenHelper(token_helper, idp, workspace)
        psql_args = ["--", "psql", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "alice", "-d", "postgres",
                     "-Atc", "select current_user", "-c", "select owner || ' | ' || body from notes"]
        show(f"pam_oauth2_token --issuer {idp.issuer} --client-id pg-cli \\\n"
             f"    --resource {helper.RESOURCE} -- psql -h 127.0.0.1 -p {cluster.port} -U alice ...")
        code, out, err, user_code = helper.run("--store", "file", "--qr", "always", *psql_args, approve_as="alice")
        if code != 0:
            raise RuntimeError("the helper could not sign alice in: " + err)
        show(err)
        show(f"(the demo approved code {user_code} at the provider, as alice would in her browser)")
        show(out)
        show("(row level security shows only her rows; the token went to psql only, in its environment)")

        say("Her next connection is silent: the helper keeps her sign-in (refresh token, file mode 0600)")
        started = time.monotonic()
        code, out, err, user_code = helper.run("--store", "file", *psql_args)
        if code != 0 or user_code is not None:
            raise RuntimeError("the second connection was not silent: " + err)
        show(out)
        show(f"(no prompt; {(time.monotonic() - started) * 1000:.0f} ms including psql)")
        code, out, _, _ = helper.run("--store", "file")
        token = out.strip()

        say("Connecting as bob with alice's token: refused")
        offset = len(cluster.log_text())
        code, _, err, _ = fixtures.psql(cluster.port, "bob", token, "select current_user")
        if code == 0:
            raise RuntimeError("bob logged in with alice's token")
        show(err)
        time.sleep(0.2)
        lines = [line for line in cluster.log_text()[offset:].splitlines() if "pam_oauth2" in line]
        say("The PostgreSQL server log says why (the token itself is never logged, only a fingerprint):")
        show("\n".join(lines))
        say("Demo finished: cleaning up (sign-in forgotten, PostgreSQL and the identity provider stopped, PAM "
            "service removed)")
    finally:
        if helper is not None:
            helper.run("--store", "file", "--logout")
            helper.remove()
        for part in (cluster, idp):
            if part is not None:
                part.stop()
        if pam is not None:
            pam.remove()
        workspace.remove()


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("the demo needs root: it installs /etc/pam.d/pam_oauth2_demo and runs PostgreSQL as postgres")
    main()
