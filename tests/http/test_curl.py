"""The HTTP bridge driven by the real curl binary, as a shell script would use it: publish,
call, webhook (with a GitHub signature), every error path a script meets (bad JSON, missing
fields, size, method, content type, unknown path, WAMP errors mapped to statuses) and every
authentication failure (bearer ticket, Crossbar-signed requests), over http:// and over
https:// (curl --cacert) on a TLS listener. WebSocket peers are raw clients (wsraw)."""

import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from httpc import sign  # noqa: E402
from httpcase import RouterCase  # noqa: E402
from test_bridge import CONFIG as PLAIN_CONFIG  # noqa: E402
from tlscerts import client_context, make_certs, server_tls  # noqa: E402

WELCOME, ERROR, SUBSCRIBE, SUBSCRIBED, EVENT = 2, 8, 32, 33, 36
REGISTER, REGISTERED, INVOCATION, YIELD = 64, 65, 68, 70

CERTS = make_certs(tempfile.mkdtemp(prefix="wampd-curl-"))
CONFIG = json.loads(json.dumps(PLAIN_CONFIG))
CONFIG["listeners"].append({"port": 0, "path": "/ws", "tls": server_tls(CERTS, client_ca=False),
                            "http": {"/publish": {"type": "publisher", "realm": "realm1"},
                                     "/call": {"type": "caller", "realm": "realm1"}}})


def curl(url, body=None, headers=(), method=None, cacert=None):
    """(status, body text) of one curl request; body is sent as is (--data-binary)."""
    cmd = ["curl", "-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}"]
    if cacert:
        cmd += ["--cacert", cacert]
    if method:
        cmd += ["-X", method]
    for h in headers:
        cmd += ["-H", h]
    if body is not None:
        cmd += ["--data-binary", "@-"]
    out = subprocess.run(cmd + [url], input=(body or "").encode(), capture_output=True,
                         timeout=20, check=True).stdout.decode()
    text, _, status = out.rpartition("\n")
    return int(status), text


JSON = "Content-Type: application/json"


class Curl(RouterCase):
    CONFIG = CONFIG

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base = "http://127.0.0.1:%d" % cls.port
        tls_port = int(cls.r.url_of("wss").rsplit(":", 1)[1].split("/")[0])
        cls.https = "https://localhost:%d" % tls_port
        cls.tls_port = tls_port

    def callee(self, procedure, answer, **kw):
        """A callee that answers each INVOCATION with answer(inv) from a thread."""
        w = super().callee(procedure, **kw)

        def run():
            try:
                while True:
                    inv = w.recv(timeout=10)
                    if inv[0] == INVOCATION:
                        w.send(answer(inv))
            except Exception:
                pass
        threading.Thread(target=run, daemon=True).start()
        return w

    def assert_error(self, got, status, uri, text=None):
        self.assertEqual(got[0], status, got)
        self.assertEqual(json.loads(got[1])["error"], uri, got)
        if text:
            self.assertIn(text, got[1])

    # ------------------------------------------------------------------ success
    def test_publish(self):
        w = self.subscriber("com.curl.news")
        st, text = curl(self.base + "/publish", json.dumps(
            {"topic": "com.curl.news", "args": ["hi", 1], "kwargs": {"k": "v"}}), [JSON])
        self.assertEqual(st, 200, text)
        ev = w.recv()
        self.assertEqual(ev[2], json.loads(text)["id"])
        self.assertEqual(ev[4:], [["hi", 1], {"k": "v"}])

    def test_call(self):
        self.callee("com.curl.add", lambda inv: [YIELD, inv[1], {}, [sum(inv[4])]])
        st, text = curl(self.base + "/call", json.dumps(
            {"procedure": "com.curl.add", "args": [2, 3, 4]}), [JSON])
        self.assertEqual(st, 200, text)
        self.assertEqual(json.loads(text)["args"], [9])

    def test_call_application_error(self):
        self.callee("com.curl.fail", lambda inv: [ERROR, INVOCATION, inv[1], {},
                                                   "com.curl.oops", ["no"]])
        got = curl(self.base + "/call", json.dumps({"procedure": "com.curl.fail"}), [JSON])
        self.assertEqual(got[0], 500, got)
        self.assertEqual(json.loads(got[1])["error"], "com.curl.oops")
        self.assertEqual(json.loads(got[1])["args"], ["no"])

    def test_webhook_signed(self):
        w = self.subscriber("com.hooks.github")
        payload = json.dumps({"ref": "refs/heads/main"})
        sig = "sha256=" + hmac.new(b"whs3cret", payload.encode(), hashlib.sha256).hexdigest()
        st, text = curl(self.base + "/webhook/gh", payload,
                        [JSON, "X-GitHub-Event: push", "X-Hub-Signature-256: " + sig])
        self.assertEqual(st, 202, text)
        ev = w.recv()
        self.assertEqual(ev[4][0]["body"], payload)
        self.assertEqual(ev[4][0]["headers"]["x-github-event"], "push")
        got = curl(self.base + "/webhook/gh", payload,
                   [JSON, "X-Hub-Signature-256: sha256=" + "0" * 64])
        self.assertEqual(got[0], 401, got)
        self.assertIn("does not match", got[1])
        got = curl(self.base + "/webhook/gh", payload, [JSON])
        self.assertEqual(got[0], 401, got)

    # ------------------------------------------------------------------ error paths
    def test_request_errors(self):
        b = self.base
        got = curl(b + "/publish", '{"topic": "com.x",', [JSON])
        self.assertEqual(got[0], 400, got)
        self.assertIn("invalid JSON in the request body at line 1", got[1])
        self.assert_error(curl(b + "/publish", '{"args": [1]}', [JSON]), 400,
                          "wamp.error.invalid_argument", "topic")
        self.assert_error(curl(b + "/publish", '{"topic": "com..bad"}', [JSON]), 400,
                          "wamp.error.invalid_uri")
        self.assert_error(curl(b + "/call", '{"args": []}', [JSON]), 400,
                          "wamp.error.invalid_argument", "procedure")
        got = curl(b + "/small", json.dumps({"topic": "com.x", "args": ["x" * 200]}), [JSON])
        self.assertEqual(got[0], 413, got)
        self.assertIn("exceeds the limit of 64", got[1])
        got = curl(b + "/publish", "topic=x", ["Content-Type: application/x-www-form-urlencoded"])
        self.assertEqual(got[0], 415, got)
        self.assertEqual(curl(b + "/publish")[0], 405)
        self.assertEqual(curl(b + "/nowhere", "{}", [JSON])[0], 404)
        self.assert_error(curl(b + "/call", '{"procedure": "com.curl.nobody"}', [JSON]), 404,
                          "wamp.error.no_such_procedure")

    def test_not_authorized(self):
        self.assert_error(curl(self.base + "/pub-limited", '{"topic": "com.other"}', [JSON]),
                          403, "wamp.error.not_authorized")

    # ------------------------------------------------------------------ authentication
    def test_bearer_ticket(self):
        self.callee("com.t", lambda inv: [YIELD, inv[1], {}, ["ok"]])
        body = '{"procedure": "com.t"}'
        got = curl(self.base + "/tcall", body, [JSON])
        self.assertEqual(got[0], 401, got)
        self.assert_error(curl(self.base + "/tcall", body, [JSON, "Authorization: Bearer no"]),
                          401, "wamp.error.authentication_failed")
        st, text = curl(self.base + "/tcall", body, [JSON, "Authorization: Bearer t0k"])
        self.assertEqual((st, json.loads(text)["args"]), (200, ["ok"]))

    def test_signed_requests(self):
        body = json.dumps({"procedure": "wamp.session.count"})
        q = sign("app1", "kkjH68GiuUZ", body)
        st, text = curl(self.base + "/scall?" + q, body, [JSON])
        self.assertEqual(st, 200, text)
        got = curl(self.base + "/scall?" + q, body, [JSON])  # replayed
        self.assertEqual(got[0], 401, got)
        self.assertIn("replayed", got[1])
        got = curl(self.base + "/scall?" + sign("app1", "wrong", body), body, [JSON])
        self.assertEqual(got[0], 401, got)
        got = curl(self.base + "/scall", body, [JSON])
        self.assertEqual(got[0], 400, got)
        self.assertIn("signed request required", got[1])

    # ------------------------------------------------------------------ https
    def test_https_publish_and_call(self):
        ca = os.path.join(CERTS, "ca.pem")
        w = self.subscriber("com.curl.tls", port=self.tls_port, tls=client_context(CERTS))
        st, text = curl(self.https + "/publish", '{"topic": "com.curl.tls", "args": [1]}',
                        [JSON], cacert=ca)
        self.assertEqual(st, 200, text)
        self.assertEqual(w.recv()[2], json.loads(text)["id"])
        self.callee("com.curl.tls.echo", lambda inv: [YIELD, inv[1], {}, inv[4]],
                    port=self.tls_port, tls=client_context(CERTS))
        st, text = curl(self.https + "/call", '{"procedure": "com.curl.tls.echo", "args": [7]}',
                        [JSON], cacert=ca)
        self.assertEqual((st, json.loads(text)["args"]), (200, [7]))
        self.assert_error(curl(self.https + "/publish", '{"topic": 5}', [JSON], cacert=ca), 400,
                          "wamp.error.invalid_argument")


if __name__ == "__main__":
    unittest.main(verbosity=2)
