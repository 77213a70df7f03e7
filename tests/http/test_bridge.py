"""HTTP bridge (publisher, caller, webhook) against the real wampd: every success and
error path, each authentication mode and its failures, keep-alive and pipelining, and the
router serving WebSocket sessions alongside. WebSocket peers are raw clients (wsraw)."""

import hashlib
import hmac
import json
import os
import socket
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from httpc import post_json, raw_exchange, request, sign  # noqa: E402
from httpcase import RouterCase  # noqa: E402

ERROR, SUBSCRIBE, SUBSCRIBED, EVENT = 8, 32, 33, 36
CALL, REGISTER, REGISTERED, INVOCATION, INTERRUPT, YIELD = 48, 64, 65, 68, 69, 70

ALL = {"call": True, "register": True, "publish": True, "subscribe": True}
CONFIG = {
    "listeners": [{"port": 0, "path": "/ws", "allowed_origins": ["http://app.example"],
                   "http": {
        "/publish": {"type": "publisher", "realm": "realm1"},
        "/pub-limited": {"type": "publisher", "realm": "realm1", "role": "limited"},
        "/small": {"type": "publisher", "realm": "realm1", "max_body": 64},
        "/call": {"type": "caller", "realm": "realm1", "call_timeout": 800, "max_pending": 2},
        "/tcall": {"type": "caller", "realm": "realm1",
                   "auth": {"type": "ticket", "tickets": ["t0k", "other"]}},
        "/scall": {"type": "caller", "realm": "realm1",
                   "auth": {"type": "signed", "key": "app1", "secret": "kkjH68GiuUZ",
                            "timestamp_delta_limit": 10}},
        "/webhook/gh": {"type": "webhook", "realm": "realm1", "topic": "com.hooks.github",
                        "github_secret": "whs3cret",
                        "headers": ["x-github-event", "content-type"]},
        "/webhook/any": {"type": "webhook", "realm": "realm1", "topic": "com.hooks.any"},
    }}],
    "realms": [{"name": "realm1", "roles": [
        {"name": "anonymous", "permissions": [{"uri": "", "match": "prefix", "allow": ALL}]},
        {"name": "limited", "permissions": [
            {"uri": "com.allowed.", "match": "prefix", "allow": {"publish": True}}]}]}],
}


class Bridge(RouterCase):
    CONFIG = CONFIG

    def call_async(self, path, body, headers=None):
        out = {}

        def run():
            out["r"] = post_json(self.port, path, body, headers, timeout=10)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t, out

    def assert_error(self, resp, status, uri, text=None):
        self.assertEqual(resp[0], status, resp)
        self.assertEqual(resp[1]["error"], uri, resp)
        if text:
            self.assertIn(text, json.dumps(resp[1]))

    # ------------------------------------------------------------------ publisher
    def test_publish_reaches_subscriber(self):
        w = self.subscriber("com.news")
        status, body = post_json(self.port, "/publish", {
            "topic": "com.news", "args": ["hello", 23], "kwargs": {"a": 1}})
        self.assertEqual(status, 200)
        ev = w.recv()
        self.assertEqual(ev[0], EVENT)
        self.assertEqual(ev[2], body["id"])
        self.assertEqual(ev[4:], [["hello", 23], {"a": 1}])

    def test_publish_options_honoured(self):
        a = self.subscriber("com.opt")
        b = self.subscriber("com.opt")
        status, body = post_json(self.port, "/publish", {"topic": "com.opt", "args": [1],
                                                         "options": {"exclude_authrole": ["anonymous"]}})
        self.assertEqual(status, 200)
        self.assertTrue(body["id"] > 0)
        for w in (a, b):
            with self.assertRaises(TimeoutError):
                w.recv(timeout=0.3)  # excluded: nothing arrives

    def test_publish_errors(self):
        p = self.port
        self.assert_error(post_json(p, "/publish", {"args": [1]}), 400,
                          "wamp.error.invalid_argument", "topic")
        self.assert_error(post_json(p, "/publish", {"topic": "com.x", "args": {"no": 1}}), 400,
                          "wamp.error.invalid_argument", "args")
        self.assert_error(post_json(p, "/publish", {"topic": "com.x", "kwargs": [1]}), 400,
                          "wamp.error.invalid_argument", "kwargs")
        self.assert_error(post_json(p, "/publish", {"topic": "com.x", "options": 3}), 400,
                          "wamp.error.invalid_argument", "options")
        self.assert_error(post_json(p, "/publish", {"topic": "com.x", "bogus": 1}), 400,
                          "wamp.error.invalid_argument", "bogus")
        self.assert_error(post_json(p, "/publish", [1, 2]), 400,
                          "wamp.error.invalid_argument", "object")
        self.assert_error(post_json(p, "/publish", {"topic": "com..bad"}), 400,
                          "wamp.error.invalid_uri")
        self.assert_error(post_json(p, "/publish", {"topic": "com.x",
                                                    "options": {"exclude": "notalist"}}),
                          400, "wamp.error.invalid_argument")
        # invalid JSON: 400 with the parser's position
        st, _, data = request(p, "POST", "/publish", '{"topic": "com.x",', {})
        self.assertEqual(st, 400)
        self.assertIn("invalid JSON in the request body at line 1", data.decode())
        # empty body
        st, _, data = request(p, "POST", "/publish", "", {"Content-Type": "application/json"})
        self.assertEqual(st, 400)
        # wrong content type
        st, _, data = request(p, "POST", "/publish", "topic=x",
                              {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 415)
        self.assertIn("application/json", data.decode())
        # wrong method
        st, hdrs, data = request(p, "GET", "/publish")
        self.assertEqual(st, 405)
        self.assertIn("POST", hdrs["allow"])
        # unknown path
        st, _, _ = request(p, "POST", "/nowhere", {"topic": "a"})
        self.assertEqual(st, 404)

    def test_publish_not_authorized(self):
        self.assert_error(post_json(self.port, "/pub-limited", {"topic": "com.other"}), 403,
                          "wamp.error.not_authorized")
        w = self.subscriber("com.allowed.x")
        status, body = post_json(self.port, "/pub-limited", {"topic": "com.allowed.x"})
        self.assertEqual(status, 200)
        self.assertEqual(w.recv()[2], body["id"])

    def test_body_too_large(self):
        st, hdrs, data = request(self.port, "POST", "/small",
                                 json.dumps({"topic": "com.x", "args": ["x" * 200]}))
        self.assertEqual(st, 413)
        self.assertEqual(hdrs.get("connection"), "close")
        self.assertIn("exceeds the limit of 64", data.decode())
        # a client that waits for 100-continue gets the 413 instead
        raw = raw_exchange(self.port, b"POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100000"
                           b"\r\nExpect: 100-continue\r\nContent-Type: application/json\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 413 "), raw)

    def test_chunked_refused_and_options(self):
        raw = raw_exchange(self.port, b"POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:"
                           b" chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 411 "), raw)
        st, hdrs, _ = request(self.port, "OPTIONS", "/call", None, {
            "Origin": "http://app.example", "Access-Control-Request-Headers": "content-type"})
        self.assertEqual(st, 204)
        self.assertEqual(hdrs["access-control-allow-origin"], "http://app.example")
        self.assertEqual(hdrs["access-control-allow-credentials"], "true")
        self.assertIn("POST", hdrs["access-control-allow-methods"])

    def test_keepalive_and_pipelining(self):
        body = json.dumps({"topic": "com.pipe", "args": [1]}).encode()
        one = (b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        raw = raw_exchange(self.port, one * 3, want_responses=3)
        self.assertEqual(raw.count(b"HTTP/1.1 200 OK"), 3, raw)
        # malformed head on a kept-alive connection: 400 and close
        raw = raw_exchange(self.port, one + b"BROKEN\r\n\r\n", want_responses=2)
        self.assertIn(b"HTTP/1.1 400 ", raw)

    # ------------------------------------------------------------------ caller
    def test_call_result(self):
        w = self.callee("com.add")
        t, out = self.call_async("/call", {"procedure": "com.add", "args": [2, 3],
                                           "kwargs": {"k": "v"}})
        inv = w.recv()
        self.assertEqual(inv[0], INVOCATION)
        self.assertEqual(inv[4:], [[2, 3], {"k": "v"}])
        w.send([YIELD, inv[1], {}, [5], {"sum": 5}])
        t.join(5)
        self.assertEqual(out["r"], (200, {"args": [5], "kwargs": {"sum": 5}}))

    def test_call_application_error(self):
        w = self.callee("com.fail")
        t, out = self.call_async("/call", {"procedure": "com.fail"})
        inv = w.recv()
        w.send([ERROR, INVOCATION, inv[1], {}, "com.example.oops", ["bad things"], {"x": 1}])
        t.join(5)
        self.assertEqual(out["r"], (500, {"error": "com.example.oops", "args": ["bad things"],
                                          "kwargs": {"x": 1}}))

    def test_call_errors(self):
        p = self.port
        self.assert_error(post_json(p, "/call", {"procedure": "com.nobody"}), 404,
                          "wamp.error.no_such_procedure")
        self.assert_error(post_json(p, "/call", {"args": []}), 400,
                          "wamp.error.invalid_argument", "procedure")
        self.assert_error(post_json(p, "/call", {"procedure": "com.x", "topic": "y"}), 400,
                          "wamp.error.invalid_argument", "topic")
        # a built-in procedure answers at once
        st, body = post_json(p, "/call", {"procedure": "wamp.session.count"})
        self.assertEqual(st, 200)
        self.assertTrue(body["args"][0] >= 1)

    def test_call_timeout_cancels(self):
        w = self.callee("com.slow")
        st, body = post_json(self.port, "/call", {"procedure": "com.slow"}, timeout=10)
        self.assertEqual(st, 504)
        self.assertEqual(body["error"], "wamp.error.timeout")
        self.assertEqual(w.recv()[0], INVOCATION)
        self.assertEqual(w.recv()[0], INTERRUPT)

    def test_max_pending(self):
        w = self.callee("com.hold")
        calls = [self.call_async("/call", {"procedure": "com.hold", "args": [i]}) for i in range(2)]
        invs = [w.recv(), w.recv()]
        self.assert_error(post_json(self.port, "/call", {"procedure": "com.hold"}), 503,
                          "wamp.error.limit_exceeded")
        for inv in invs:
            w.send([YIELD, inv[1], {}, inv[4]])
        for t, out in calls:
            t.join(5)
            self.assertEqual(out["r"][0], 200)

    def test_client_gone_mid_call(self):
        w = self.callee("com.hang")
        body = json.dumps({"procedure": "com.hang"}).encode()
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.sendall(b"POST /call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.assertEqual(w.recv()[0], INVOCATION)
        s.close()
        intr = w.recv()
        self.assertEqual(intr[0], INTERRUPT)
        self.assertEqual(intr[2].get("mode"), "killnowait")

    # ------------------------------------------------------------------ authentication
    def test_ticket(self):
        w = self.callee("com.t")
        st, hdrs, data = request(self.port, "POST", "/tcall", {"procedure": "com.t"})
        self.assertEqual(st, 401)
        self.assertIn("Bearer", hdrs["www-authenticate"])
        self.assert_error(post_json(self.port, "/tcall", {"procedure": "com.t"},
                                    {"Authorization": "Bearer wrong"}), 401,
                          "wamp.error.authentication_failed")
        t, out = self.call_async("/tcall", {"procedure": "com.t"},
                                 {"Authorization": "Bearer other"})
        inv = w.recv()
        w.send([YIELD, inv[1], {}, ["ok"]])
        t.join(5)
        self.assertEqual(out["r"], (200, {"args": ["ok"], "kwargs": {}}))

    def test_signed(self):
        p = self.port
        body = json.dumps({"procedure": "wamp.session.count"})
        q = sign("app1", "kkjH68GiuUZ", body)
        st, _, data = request(p, "POST", "/scall?" + q, body)
        self.assertEqual(st, 200, data)
        # the same request again: a replay
        st, _, data = request(p, "POST", "/scall?" + q, body)
        self.assertEqual(st, 401)
        self.assertIn("replayed", data.decode())
        # body changed after signing
        q = sign("app1", "kkjH68GiuUZ", body)
        st, _, data = request(p, "POST", "/scall?" + q, body.replace("count", "list"))
        self.assertEqual(st, 401)
        self.assertIn("signature", data.decode())
        # wrong secret, unknown key, stale and malformed timestamps, missing fields
        st, _, _ = request(p, "POST", "/scall?" + sign("app1", "nope", body), body)
        self.assertEqual(st, 401)
        st, _, data = request(p, "POST", "/scall?" + sign("app2", "kkjH68GiuUZ", body), body)
        self.assertEqual(st, 401)
        self.assertIn("unknown key", data.decode())
        st, _, data = request(p, "POST", "/scall?" + sign("app1", "kkjH68GiuUZ", body,
                                                          ts="2011-10-14T16:59:51.123Z"), body)
        self.assertEqual(st, 400)
        self.assertIn("window", data.decode())
        st, _, data = request(p, "POST", "/scall?" + sign("app1", "kkjH68GiuUZ", body,
                                                          ts="yesterday"), body)
        self.assertEqual(st, 400)
        self.assertIn("ISO-8601", data.decode())
        st, _, data = request(p, "POST", "/scall", body)
        self.assertEqual(st, 400)
        self.assertIn("signed request required", data.decode())

    # ------------------------------------------------------------------ webhooks
    def test_webhook_github_signature(self):
        w = self.subscriber("com.hooks.github")
        payload = json.dumps({"ref": "refs/heads/main"})
        sig = "sha256=" + hmac.new(b"whs3cret", payload.encode(), hashlib.sha256).hexdigest()
        st, _, data = request(self.port, "POST", "/webhook/gh", payload, {
            "X-Hub-Signature-256": sig.upper().replace("SHA256=", "sha256="),
            "X-GitHub-Event": "push", "X-Other": "dropped"})
        self.assertEqual(st, 202, data)
        ev = w.recv()
        self.assertEqual(ev[2], json.loads(data)["id"])
        self.assertEqual(ev[4], [{"headers": {"x-github-event": "push",
                                              "content-type": "application/json"},
                                  "body": payload}])
        st, _, data = request(self.port, "POST", "/webhook/gh", payload,
                              {"X-Hub-Signature-256": "sha256=" + "0" * 64})
        self.assertEqual(st, 401)
        self.assertIn("does not match", data.decode())
        st, _, data = request(self.port, "POST", "/webhook/gh", payload)
        self.assertEqual(st, 401)
        self.assertIn("required", data.decode())
        with self.assertRaises(TimeoutError):
            w.recv(timeout=0.3)  # refused requests published nothing

    def test_webhook_any_body(self):
        w = self.subscriber("com.hooks.any")
        st, _, data = request(self.port, "POST", "/webhook/any", b"\xff\xfebinary",
                              {"Content-Type": "application/octet-stream",
                               "Authorization": "secret", "X-Req": "1"})
        self.assertEqual(st, 202)
        ev = w.recv()[4][0]
        self.assertNotIn("authorization", ev["headers"])
        self.assertEqual(ev["headers"]["x-req"], "1")
        self.assertEqual(ev["body_base64"], "//5iaW5hcnk=")

    def test_websocket_still_served(self):
        w = self.callee("com.ws.alive")
        w.send([CALL, 7, {}, "wamp.session.count"])
        self.assertEqual(w.recv()[0], 50)


if __name__ == "__main__":
    unittest.main()
