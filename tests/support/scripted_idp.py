#!/usr/bin/env python3
"""A scripted loopback identity provider for the module's integration tests.

It answers the userinfo and introspection endpoints according to the token it receives, so one
server serves every case of a table. Run as a program: prints its port on the first line of stdout,
then serves until killed.

    scripted_idp.py [--tls CERT KEY]

Tokens (Bearer for /userinfo, form field `token` for /introspect):
    user-NAME      200 {"preferred_username": NAME, ...}
    status-NNN     answers HTTP NNN with a small JSON body
    slow-SECONDS   sleeps, then answers as user-alice
    garbage        200 with a body that is not JSON
    array          200 with a JSON array
    no-claim       200 object without preferred_username
    number-claim   200 with preferred_username as a number
    huge           200 with a 5 MiB body
    redirect       302 to /userinfo/elsewhere (which would grant alice if followed)
    inactive       introspection: {"active": false}
    pad-N-...      200 as user-alice only when the token arrived whole (exactly N bytes), else 401
    once           200 as user-alice the first time this exact token is seen, 401 afterwards
    exp-in-N       introspection: active for alice with exp N seconds from now
    refresh-NAME   introspection: active, but a refresh token (Keycloak's typ Refresh)
    idtoken-NAME   introspection: active, but an ID token (Keycloak's typ ID)
    otheraud-NAME  introspection: active, for another audience

Introspection answers for user-NAME carry aud "postgres" and token_type "Bearer".

GET /stats answers {"requests": N, "max_in_flight": M} for the userinfo and introspection requests
since the start (or the last POST /stats/reset): how many arrived, and the most served at once.

Any token may end in "~" and a nonce, which is ignored: tests make every token unique that way, so
a scan of the logs for the tokens cannot be fooled by a token that is also an ordinary word.
"""

import base64
import json
import ssl
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import threading

STATS_LOCK = threading.Lock()
STATS = {"requests": 0, "in_flight": 0, "max_in_flight": 0}

CLIENT_ID = "pg-test"
CLIENT_SECRET = "test-client-secret"
SEEN_ONCE = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _send(self, status, body, content_type="application/json", extra=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _answer_for(self, token, introspection):
        with STATS_LOCK:
            STATS["requests"] += 1
            STATS["in_flight"] += 1
            STATS["max_in_flight"] = max(STATS["max_in_flight"], STATS["in_flight"])
        try:
            return self._answer_counted(token, introspection)
        finally:
            with STATS_LOCK:
                STATS["in_flight"] -= 1

    def _answer_counted(self, token, introspection):
        if token.startswith("once~"):
            first_time = token not in SEEN_ONCE
            SEEN_ONCE.add(token)
            token = "user-alice" if first_time else "rejected"
        if not token.startswith("pad-"):
            token = token.split("~")[0]
        if token.startswith("slow-"):
            time.sleep(float(token[5:]))
            token = "user-alice"
        if token.startswith("exp-in-"):
            claims = {"active": True, "preferred_username": "alice", "exp": int(time.time()) + int(token[7:]),
                      "aud": "postgres"}
            return self._send(200, json.dumps(claims))
        for prefix, extra in (("refresh-", {"typ": "Refresh"}), ("idtoken-", {"typ": "ID"}),
                              ("otheraud-", {"aud": "other-api"})):
            if introspection and token.startswith(prefix):
                claims = {"active": True, "preferred_username": token[len(prefix):], "aud": "postgres",
                          "exp": int(time.time()) + 300, **extra}
                return self._send(200, json.dumps(claims))
        if token.startswith("pad-"):
            expected = int(token.split("-")[1])
            token = "user-alice" if len(token) == expected else "rejected"
        if token.startswith("user-"):
            claims = {"sub": "id-" + token[5:], "preferred_username": token[5:]}
            if introspection:
                claims.update({"active": True, "exp": int(time.time()) + 300, "client_id": "psql", "aud": "postgres",
                               "token_type": "Bearer"})
            return self._send(200, json.dumps(claims))
        if token.startswith("status-"):
            return self._send(int(token[7:]), json.dumps({"error": "scripted"}))
        if token == "inactive":
            return self._send(200, json.dumps({"active": False}))
        if token == "garbage":
            return self._send(200, "<html>not json</html>", "text/html")
        if token == "array":
            return self._send(200, json.dumps([{"preferred_username": "alice"}]))
        if token == "no-claim":
            return self._send(200, json.dumps({"sub": "x", "active": True}))
        if token == "number-claim":
            return self._send(200, json.dumps({"preferred_username": 42, "active": True}))
        if token == "huge":
            filler = "x" * (5 * 1024 * 1024)
            return self._send(200, json.dumps({"preferred_username": "alice", "active": True, "filler": filler}))
        if token == "redirect":
            return self._send(302, "{}", extra={"Location": "/userinfo/elsewhere"})
        return self._send(401, json.dumps({"error": "invalid_token"}),
                          extra={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    def do_GET(self):
        if self.path == "/stats":
            with STATS_LOCK:
                return self._send(200, json.dumps({"requests": STATS["requests"],
                                                   "max_in_flight": STATS["max_in_flight"]}))
        if self.path == "/userinfo/elsewhere":
            return self._send(200, json.dumps({"preferred_username": "alice"}))
        if self.path != "/userinfo":
            return self._send(404, "{}")
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return self._send(401, json.dumps({"error": "invalid_request"}))
        return self._answer_for(auth[len("Bearer "):], introspection=False)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        if self.path == "/stats/reset":
            with STATS_LOCK:
                STATS.update(requests=0, max_in_flight=0)
            return self._send(200, "{}")
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if self.path != "/introspect":
            return self._send(404, "{}")
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self._send(401, json.dumps({"error": "invalid_client"}))
        token = form.get("token", [""])[0]
        return self._answer_for(token, introspection=True)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that hang up early (the module refusing a 5 MiB answer) are part of the script.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)


def main():
    server = QuietServer(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
