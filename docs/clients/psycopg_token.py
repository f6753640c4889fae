"""psycopg (3) with pam_oauth2: the password of each connection comes from pam_oauth2_token, which
answers from the kept sign-in (run it once by hand to sign in). Host, port, user and database come
from PGHOST, PGPORT, PGUSER and PGDATABASE, or from connect()'s arguments."""

import os
import subprocess

import psycopg


def access_token(profile=os.environ.get("PAM_OAUTH2_PROFILE", "prod")):
    # The helper's messages (why there is no token) go to our standard error.
    helper = subprocess.run(["pam_oauth2_token", "-p", profile, "--no-prompt"], check=True, stdout=subprocess.PIPE,
                            text=True, timeout=60)
    return helper.stdout.strip()


if __name__ == "__main__":
    with psycopg.connect(password=access_token()) as connection:
        print(connection.execute("select current_user").fetchone()[0])
