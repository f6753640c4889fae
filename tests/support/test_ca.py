"""A throwaway certificate authority for loopback HTTPS tests, made with the openssl command line."""

import os
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory, name="pam_oauth2 test CA"):
    """Creates ca.key/ca.pem in `directory` (prefix from name) and returns the CA certificate path."""
    os.makedirs(directory, exist_ok=True)
    stem = name.replace(" ", "_")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{stem}.key", "-out", f"{stem}.pem", "-days", "2",
             "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    return os.path.join(directory, f"{stem}.pem")


def make_server_cert(directory, ca_pem, name="localhost"):
    """Issues a certificate for localhost/127.0.0.1/::1 signed by the CA at ca_pem; returns (cert, key)."""
    ca_key = ca_pem[:-4] + ".key"
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=directory)
    extensions = os.path.join(directory, f"{name}.ext")
    with open(extensions, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
                "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
             "-out", f"{name}.pem", "-days", "2", "-extfile", extensions, cwd=directory)
    return os.path.join(directory, f"{name}.pem"), os.path.join(directory, f"{name}.key")
