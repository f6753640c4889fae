#!/usr/bin/env python3
"""The pam_oauth2 demo: a local OpenID provider, a throwaway PostgreSQL, the module installed as a
PAM service, and psql logging in with an access token instead of a password. Cleans up after itself.

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
    module = os.path.abspath(parser.parse_args().module)

    workspace = fixtures.Workspace(module)
    idp = pam = cluster = None
    try:
        say("Starting a local OpenID provider (oidc-provider) over HTTPS, with a CA made just now")
        idp = fixtures.OidcProvider(workspace)
        show(f"issuer:            {idp.issuer}\nuserinfo endpoint: {idp.userinfo_url}")

        say(f"Installing the PAM service /etc/pam.d/{SERVICE} that uses pam_oauth2.so")
        args = ["log=stderr", f"userinfo_url={idp.userinfo_url}", f"ca_file={workspace.ca}",
                "username_claim=preferred_username", "timeout=3", f"cache_dir={workspace.cache_dir}"]
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

        say("Signing in alice at the identity provider to get an access token")
        token = idp.mint("alice")
        show(f"access token: {token[:6]}... ({len(token)} bytes)")

        say("Connecting as alice with the token as the password:")
        show(f"PGPASSWORD=$ACCESS_TOKEN psql -h 127.0.0.1 -p {cluster.port} -U alice "
             "-c 'select current_user' -c 'select * from notes'")
        code, out, err, seconds = fixtures.psql(cluster.port, "alice", token,
                                                "select current_user; select owner || ' | ' || body from notes")
        if code != 0:
            raise RuntimeError("alice could not log in: " + err)
        show(out)
        show(f"(logged in as alice in {seconds * 1000:.0f} ms; row level security shows only her rows)")

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
        say("Demo finished: cleaning up (PostgreSQL stopped, identity provider stopped, PAM service removed)")
    finally:
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
