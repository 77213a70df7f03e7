"""HTTP services on a TLS listener (https:// on the wss:// port): the bridge (publish, call,
webhook with a GitHub signature), the long-poll transport and its client-certificate
binding, one request per connection and pipelining clients, the error paths, a client that
goes away while its call is held, Server-Sent Events refused, and WebSocket on the same port
throughout. Python's ssl
and http.client; certificates made at test time (tests/lib/tlscerts.py)."""

import hashlib
import hmac
import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from httpc import exchange, read_responses  # noqa: E402
from httpcase import RouterCase  # noqa: E402
from tlscerts import client_context, make_certs, server_tls  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

WELCOME, ERROR, SUBSCRIBE, SUBSCRIBED, EVENT = 2, 8, 32, 33, 36
CALL, RESULT, REGISTER, REGISTERED, INVOCATION, INTERRUPT, YIELD = 48, 50, 64, 65, 68, 69, 70

CERTS = make_certs(tempfile.mkdtemp(prefix="wampd-https-"))
ALL = {"call": True, "register": True, "publish": True, "subscribe": True}
CONFIG = {
    "listeners": [{"port": 0, "path": "/ws", "tls": server_tls(CERTS),
                   "allowed_origins": ["https://app.example"], "auth": {
        "tls": {"type": "static", "principals": {"device-7": {"role": "device"}}},
        "anonymous": {"type": "static", "role": "anonymous"}},
        "http": {
        "/publish": {"type": "publisher", "realm": "realm1"},
        "/small": {"type": "publisher", "realm": "realm1", "max_body": 64},
        "/call": {"type": "caller", "realm": "realm1", "call_timeout": 5000},
        "/webhook/gh": {"type": "webhook", "realm": "realm1", "topic": "com.hooks.github",
                        "github_secret": "whs3cret",
                        "headers": ["x-github-event", "content-type"]},
        "/webhook/any": {"type": "webhook", "realm": "realm1", "topic": "com.hooks.any"},
        "/lp": {"type": "longpoll", "poll_timeout": 1, "idle_timeout": 5},
    }}],
    "realms": [{"name": "realm1", "roles": [
        {"name": "anonymous", "permissions": [{"uri": "", "match": "prefix", "allow": ALL}]},
        {"name": "device", "permissions": [{"uri": "", "match": "prefix", "allow": ALL}]}]}],
}


class HTTPS(RouterCase):
    CONFIG = CONFIG
    PEER_TLS = client_context(CERTS)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert cls.r.url.startswith("wss://"), cls.r.url

    # ------------------------------------------------------------------ helpers
    def conn(self, cert=None, timeout=5):
        c = http.client.HTTPSConnection("localhost", self.port, timeout=timeout,
                                        context=client_context(CERTS, cert))
        self.addCleanup(c.close)
        return c

    def req(self, c, method, path, body=None, headers=None):
        return exchange(c, method, path, body, headers)

    def post(self, path, obj, headers=None, cert=None):
        st, hdrs, data = self.req(self.conn(cert), "POST", path, obj, headers)
        return st, json.loads(data) if data else None


    # ------------------------------------------------------------------ bridge
    def test_publish_reaches_a_wss_subscriber(self):
        w = self.subscriber("com.tls.news")
        st, body = self.post("/publish", {"topic": "com.tls.news", "args": ["hi", 1],
                                          "kwargs": {"k": "v"}})
        self.assertEqual(st, 200, body)
        ev = w.recv()
        self.assertEqual(ev[0], EVENT)
        self.assertEqual(ev[2], body["id"])
        self.assertEqual(ev[4:], [["hi", 1], {"k": "v"}])

    def test_one_request_per_connection(self):
        """lws' HTTP role: every answer closes its connection (http.h); clients reconnect."""
        w = self.subscriber("com.tls.ka")
        c = self.conn()
        ids = []
        for i in range(5):
            st, hdrs, data = self.req(c, "POST", "/publish", {"topic": "com.tls.ka", "args": [i]})
            self.assertEqual(st, 200, data)
            self.assertEqual(hdrs.get("connection"), "close")
            ids.append(json.loads(data)["id"])  # http.client reconnects for the next one
        got = [w.recv() for _ in ids]
        self.assertEqual([e[2] for e in got], ids)
        self.assertEqual([e[4][0] for e in got], list(range(5)))

    def tls_socket(self):
        s = client_context(CERTS).wrap_socket(
            socket.create_connection(("127.0.0.1", self.port), timeout=5),
            server_hostname="localhost")
        self.addCleanup(s.close)
        return s

    @staticmethod
    def post_bytes(path, obj):
        body = json.dumps(obj).encode()
        return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (path.encode(), len(body), body))

    def test_pipelined_requests_first_answered_then_closed(self):
        w = self.subscriber("com.tls.pipe")
        s = self.tls_socket()
        s.sendall(b"".join(self.post_bytes("/publish", {"topic": "com.tls.pipe", "args": [i]})
                           for i in range(3)))
        buf = read_responses(s)  # ends when the router closes
        self.assertEqual(buf.count(b"HTTP/1.1 "), 1, buf)
        self.assertTrue(buf.startswith(b"HTTP/1.1 200 OK"), buf)
        self.assertIn(b"Connection: close", buf)
        ev = w.recv()
        self.assertEqual(ev[4], [0])
        with self.assertRaises(TimeoutError):
            w.recv(timeout=0.3)  # the pipelined ones were not served (nor half-read)

    def test_pipelined_behind_a_held_call(self):
        """A call waits for its callee while the client pipelines: the call is given up at
        once (the callee interrupted) and answered 503, long before its timeout."""
        w = self.callee("com.tls.held")
        s = self.tls_socket()
        s.sendall(self.post_bytes("/call", {"procedure": "com.tls.held"}) +
                  self.post_bytes("/publish", {"topic": "com.tls.x"}))
        inv = w.recv()
        self.assertEqual(inv[0], INVOCATION)
        intr = w.recv(timeout=3)  # call_timeout is 5 s
        self.assertEqual(intr[:2], [INTERRUPT, inv[1]])
        buf = read_responses(s, 3)
        self.assertTrue(buf.startswith(b"HTTP/1.1 503 "), buf)
        self.assertIn(b"pipelined requests are not served on TLS listeners", buf)
        self.assertEqual(buf.count(b"HTTP/1.1 "), 1, buf)
        w.send([YIELD, inv[1], {}, ["late"]])  # dropped quietly
        st, _ = self.post("/publish", {"topic": "com.tls.after"})
        self.assertEqual(st, 200)

    def test_call_result_and_error(self):
        w = self.callee("com.tls.add")
        out = {}

        def run():
            out["r"] = self.post("/call", {"procedure": "com.tls.add", "args": [2, 3]})
        t = threading.Thread(target=run, daemon=True)
        t.start()
        inv = w.recv()
        self.assertEqual(inv[0], INVOCATION)
        self.assertEqual(inv[4], [2, 3])
        w.send([YIELD, inv[1], {}, [5]])
        t.join(5)
        self.assertEqual(out["r"][0], 200, out)
        self.assertEqual(out["r"][1]["args"], [5])
        st, body = self.post("/call", {"procedure": "com.tls.nobody"})
        self.assertEqual(st, 404)
        self.assertEqual(body["error"], "wamp.error.no_such_procedure")

    def test_client_gone_while_its_call_is_held(self):
        """The https client disconnects while its call waits: the callee is interrupted and
        the router goes on serving (the socket probe notices the hang-up)."""
        w = self.callee("com.tls.slow")
        s = socket.create_connection(("127.0.0.1", self.port))
        s = client_context(CERTS).wrap_socket(s, server_hostname="localhost")
        body = json.dumps({"procedure": "com.tls.slow"}).encode()
        s.sendall(b"POST /call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        inv = w.recv()
        self.assertEqual(inv[0], INVOCATION)
        s.close()
        intr = w.recv(timeout=5)
        self.assertEqual(intr[:2], [INTERRUPT, inv[1]])
        w.send([YIELD, inv[1], {}, ["late"]])  # dropped quietly
        st, _ = self.post("/publish", {"topic": "com.tls.after"})
        self.assertEqual(st, 200)

    def test_error_paths(self):
        c = self.conn()
        st, _, data = self.req(c, "POST", "/publish", '{"topic": ', None)
        self.assertEqual(st, 400)
        self.assertIn("invalid JSON", data.decode())
        st, _, _ = self.req(c, "POST", "/nowhere", {"topic": "a"})
        self.assertEqual(st, 404)
        st, hdrs, _ = self.req(c, "GET", "/publish")
        self.assertEqual(st, 405)
        self.assertIn("POST", hdrs["allow"])
        st, _, data = self.req(c, "POST", "/publish", "topic=x",
                               {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 415)
        st, _, data = self.req(c, "POST", "/publish", {"topic": "com..bad"})
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(data)["error"], "wamp.error.invalid_uri")
        st, hdrs, data = self.req(self.conn(), "POST", "/small",
                                  {"topic": "com.x", "args": ["x" * 200]})
        self.assertEqual(st, 413)
        self.assertIn("exceeds the limit of 64", data.decode())
        st, hdrs, _ = self.req(self.conn(), "OPTIONS", "/call", None, {
            "Origin": "https://app.example", "Access-Control-Request-Headers": "content-type"})
        self.assertEqual(st, 204)
        self.assertEqual(hdrs["access-control-allow-origin"], "https://app.example")

    def test_path_without_a_service_is_not_served(self):
        st, _, _ = self.req(self.conn(), "GET", "/not-a-service")
        self.assertEqual(st, 404)

    # ------------------------------------------------------------------ webhook
    def test_webhook_with_github_signature(self):
        w = self.subscriber("com.hooks.github")
        payload = json.dumps({"action": "opened", "number": 7})
        sig = "sha256=" + hmac.new(b"whs3cret", payload.encode(), hashlib.sha256).hexdigest()
        st, _, data = self.req(self.conn(), "POST", "/webhook/gh", payload, {
            "X-Hub-Signature-256": sig, "X-GitHub-Event": "pull_request", "X-Other": "no"})
        self.assertEqual(st, 202, data)
        ev = w.recv()
        self.assertEqual(ev[2], json.loads(data)["id"])
        # x-github-event is not a header lws knows by name: the route's list let it through
        self.assertEqual(ev[4], [{"headers": {"x-github-event": "pull_request",
                                              "content-type": "application/json"},
                                  "body": payload}])
        st, _, data = self.req(self.conn(), "POST", "/webhook/gh", payload, {
            "X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Event": "push"})
        self.assertEqual(st, 401, data)
        self.assertIn("does not match", data.decode())
        with self.assertRaises(TimeoutError):
            w.recv(timeout=0.3)  # refused requests published nothing

    def test_webhook_default_headers(self):
        """Without a configured list the common vendors' headers reach the event."""
        w = self.subscriber("com.hooks.any")
        st, _, data = self.req(self.conn(), "POST", "/webhook/any", b"\xff\xfebinary", {
            "Content-Type": "application/octet-stream", "Authorization": "secret",
            "X-GitLab-Event": "Push Hook", "Stripe-Signature": "t=1,v1=ab"})
        self.assertEqual(st, 202, data)
        ev = w.recv()[4][0]
        self.assertNotIn("authorization", ev["headers"])
        self.assertEqual(ev["headers"]["x-gitlab-event"], "Push Hook")
        self.assertEqual(ev["headers"]["stripe-signature"], "t=1,v1=ab")
        self.assertEqual(ev["body_base64"], "//5iaW5hcnk=")

    # ------------------------------------------------------------------ SSE
    def test_sse_refused_on_a_tls_listener(self):
        cfg = json.loads(json.dumps(CONFIG))
        cfg["listeners"][0]["http"]["/sse"] = {"type": "sse", "realm": "realm1"}
        r = WampdProcess(config=cfg)
        with self.assertRaises(Exception) as e:
            r.start()
        self.assertIn("Server-Sent Events (/sse) are not served on TLS listeners", str(e.exception))

    # ------------------------------------------------------------------ long-poll
    def lp(self, cert=None):
        c = self.conn(cert)
        st, _, data = self.req(c, "POST", "/lp/open", {"protocols": ["wamp.2.json"]})
        self.assertEqual(st, 200, data)
        return c, "/lp/" + json.loads(data)["transport"]

    def lp_hello(self, c, base, methods):
        st, _, _ = self.req(c, "POST", base + "/send", json.dumps(
            [1, "realm1", {"roles": {"caller": {}}, "authmethods": methods}]))
        self.assertEqual(st, 204)
        st, _, data = self.req(c, "POST", base + "/receive")
        self.assertEqual(st, 200)
        return json.loads(data)

    def test_longpoll_session_rpc(self):
        c, base = self.lp()
        welcome = self.lp_hello(c, base, ["anonymous"])
        self.assertEqual(welcome[0], WELCOME)
        self.req(c, "POST", base + "/send", json.dumps([CALL, 1, {}, "wamp.session.count"]))
        st, _, data = self.req(c, "POST", base + "/receive")
        self.assertEqual(st, 200)
        res = json.loads(data)
        self.assertEqual(res[:2], [RESULT, 1])
        self.assertGreaterEqual(res[3][0], 1)
        st, _, _ = self.req(c, "POST", base + "/close")
        self.assertEqual(st, 204)

    def test_longpoll_client_certificate_binds_the_transport(self):
        c, base = self.lp(cert="client")
        welcome = self.lp_hello(c, base, ["tls", "anonymous"])
        self.assertEqual(welcome[0], WELCOME, welcome)
        self.assertEqual(welcome[2]["authmethod"], "tls")
        self.assertEqual(welcome[2]["authid"], "device-7")
        self.assertEqual(welcome[2]["authrole"], "device")
        # the same transport from a connection without that certificate: refused
        st, _, data = self.req(self.conn(), "POST", base + "/receive")
        self.assertEqual(st, 403)
        self.assertIn("wamp.error.not_authorized", data.decode())
        st, _, data = self.req(self.conn("stranger"), "POST", base + "/receive")
        self.assertEqual(st, 403)
        # and still its owner's
        self.req(c, "POST", base + "/send", json.dumps([CALL, 2, {}, "wamp.session.count"]))
        st, _, data = self.req(c, "POST", base + "/receive")
        self.assertEqual(json.loads(data)[:2], [RESULT, 2])

    def test_longpoll_without_certificate_is_anonymous(self):
        c, base = self.lp()
        welcome = self.lp_hello(c, base, ["tls", "anonymous"])
        self.assertEqual(welcome[2]["authmethod"], "anonymous")

    # ------------------------------------------------------------------ the port's other users
    def test_wss_session_alongside_http(self):
        w = self.ws()
        w.send([CALL, 7, {}, "wamp.session.count"])
        res = w.recv()
        self.assertEqual(res[:2], [RESULT, 7])

    def test_plain_http_on_the_tls_port_gets_no_service(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=3)
        s.sendall(b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        try:
            data = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            data = b""
        s.close()
        self.assertFalse(data.startswith(b"HTTP/1.1 200"), data)
        st, _ = self.post("/publish", {"topic": "com.tls.still"})
        self.assertEqual(st, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
