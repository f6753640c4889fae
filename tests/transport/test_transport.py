#!/usr/bin/env python3
"""The libcurl client against a raw loopback HTTP(S) server: which Cache-Control and Date it reads
(case-insensitive names, the final block after a 100 Continue, no trailers, the first copy, a bound
on size) and which protocols it lets through. Run once per transport build:

    test_transport.py --probe build/tests/transport_probe --protocols CURLOPT_PROTOCOLS_STR
    test_transport.py --probe build/tests/transport_probe_old_paths --protocols CURLOPT_PROTOCOLS
"""

import argparse
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import test_ca  # noqa: E402

PROBE = PROTOCOLS = None
DATE = "Sun, 06 Nov 1994 08:49:37 GMT"
DATE_SECONDS = 784111777
OTHER_DATE = "Mon, 07 Nov 1994 08:49:37 GMT"


def answer(status, headers, body=b"{}"):
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{line}\r\n" for line in headers)
    return head.encode() + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body


CHUNKED_WITH_TRAILER = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Cache-Control\r\n"
                        b"Connection: close\r\n\r\n2\r\n{}\r\n0\r\nCache-Control: max-age=7\r\nDate: " +
                        OTHER_DATE.encode() + b"\r\n\r\n")

ANSWERS = {
    "/plain": answer("200 OK", ["Cache-Control: max-age=120", f"Date: {DATE}"]),
    "/none": answer("200 OK", []),
    "/cases": answer("200 OK", ["cache-control:   no-store  ", f"DATE: {DATE}"]),
    "/interim": b"HTTP/1.1 100 Continue\r\nCache-Control: max-age=1\r\nDate: " + OTHER_DATE.encode() + b"\r\n\r\n" +
                answer("200 OK", ["Cache-Control: max-age=99"]),
    "/first": answer("200 OK", ["Cache-Control: max-age=5", "Cache-Control: max-age=500", f"Date: {DATE}",
                                f"Date: {OTHER_DATE}"]),
    "/huge": answer("200 OK", ["Cache-Control: max-age=60, " + "x" * 5000, f"Date: {DATE}"]),
    "/trailer": CHUNKED_WITH_TRAILER,
    "/redirect": answer("302 Found", ["Location: /plain", "Cache-Control: max-age=3"]),
}


class RawServer:
    """Answers each connection with the bytes ANSWERS holds for the request's path, over TLS if given."""

    def __init__(self, tls=None):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.context = None
        if tls is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(*tls)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        try:
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            path = request.split(b" ", 2)[1].decode()
            conn.sendall(ANSWERS.get(path, answer("404 Not Found", [])))
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def stop(self):
        self.sock.close()


def setUpModule():
    global WORKDIR, CA, HTTP, HTTPS
    WORKDIR = tempfile.mkdtemp(prefix="pam_oauth2_transport_")
    CA = test_ca.make_ca(WORKDIR)
    HTTP = RawServer()
    HTTPS = RawServer(tls=test_ca.make_server_cert(WORKDIR, CA))


def tearDownModule():
    HTTP.stop()
    HTTPS.stop()
    shutil.rmtree(WORKDIR)


def probe(url, *args):
    done = subprocess.run([PROBE, url, *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"probe exited {done.returncode}: {done.stderr}")
    fields = dict(line.split("=", 1) for line in done.stdout.splitlines())
    return fields


def http(path, *args):
    return probe(f"http://127.0.0.1:{HTTP.port}{path}", "--allow-http", *args)


class Headers(unittest.TestCase):
    def test_cache_control_and_date(self):
        got = http("/plain")
        self.assertEqual((got["transport_ok"], got["status"]), ("1", "200"), got)
        self.assertEqual(got["cache_control"], "max-age=120")
        self.assertEqual(got["date"], str(DATE_SECONDS))
        self.assertEqual(got["body"], "{}")

    def test_post_reads_the_same(self):
        got = http("/plain", "--post")
        self.assertEqual((got["transport_ok"], got["cache_control"], got["date"]), ("1", "max-age=120",
                                                                                  str(DATE_SECONDS)), got)

    def test_absent_headers_are_empty(self):
        got = http("/none")
        self.assertEqual((got["transport_ok"], got["cache_control"], got["date"]), ("1", "", "0"), got)

    def test_names_ignore_case_and_values_are_trimmed(self):
        got = http("/cases")
        self.assertEqual((got["cache_control"], got["date"]), ("no-store", str(DATE_SECONDS)), got)

    def test_only_the_final_block_after_100_continue_counts(self):
        got = http("/interim")
        self.assertEqual((got["transport_ok"], got["status"]), ("1", "200"), got)
        self.assertEqual((got["cache_control"], got["date"]), ("max-age=99", "0"), got)

    def test_the_first_copy_of_a_header_wins(self):
        got = http("/first")
        self.assertEqual((got["cache_control"], got["date"]), ("max-age=5", str(DATE_SECONDS)), got)

    def test_trailers_are_not_headers(self):
        got = http("/trailer")
        self.assertEqual((got["transport_ok"], got["body"]), ("1", "{}"), got)
        self.assertEqual((got["cache_control"], got["date"]), ("", "0"), got)

    def test_an_oversized_value_is_read_as_absent(self):
        got = http("/huge")
        self.assertEqual((got["transport_ok"], got["cache_control"], got["date"]), ("1", "", str(DATE_SECONDS)),
                         got)

    def test_a_redirect_is_not_followed(self):
        got = http("/redirect")
        self.assertEqual((got["transport_ok"], got["status"], got["cache_control"]), ("1", "302", "max-age=3"), got)


class Protocols(unittest.TestCase):
    def test_the_expected_option_restricts(self):
        self.assertEqual(http("/plain")["protocols"], PROTOCOLS)

    def test_https_is_allowed(self):
        for extra in ((), ("--allow-http",)):
            got = probe(f"https://127.0.0.1:{HTTPS.port}/plain", "--ca-file", CA, *extra)
            self.assertEqual((got["transport_ok"], got["cache_control"]), ("1", "max-age=120"), got)

    def test_http_only_with_allow_http(self):
        got = probe(f"http://127.0.0.1:{HTTP.port}/plain")
        self.assertEqual(got["transport_ok"], "0", got)
        self.assertIn("Unsupported protocol", got["error"])
        self.assertEqual(http("/plain")["transport_ok"], "1")

    def test_other_protocols_never(self):
        for url in (f"ftp://127.0.0.1:{HTTP.port}/plain", "file:///etc/hostname", f"gopher://127.0.0.1:{HTTP.port}/",
                    f"dict://127.0.0.1:{HTTP.port}/d:x", f"telnet://127.0.0.1:{HTTP.port}/"):
            got = probe(url, "--allow-http")
            self.assertEqual(got["transport_ok"], "0", (url, got))
            self.assertIn("Unsupported protocol", got["error"], url)


def main():
    global PROBE, PROTOCOLS
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", required=True)
    parser.add_argument("--protocols", required=True, help="the option the probe must report")
    args, rest = parser.parse_known_args()
    PROBE, PROTOCOLS = args.probe, args.protocols
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
