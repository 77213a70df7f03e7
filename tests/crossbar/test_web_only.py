"""A Crossbar web transport without a WebSocket path (crossbar-examples' benchmark/web
shape): wampd serves its web paths on an http listener, HTTP services only.

- web-only.json (tests/crossbar/configs/, written for this test): a web transport with a
  static directory at "/", a json value and a long-poll service, next to a websocket
  transport on another port. The web paths are served (curl), a WebSocket upgrade to the
  web port is refused 404 on every path, RawSocket there is refused, the WebSocket port
  is unaffected (joins, and serves no web path), and a long-poll session on the web port
  joins the same realm and exchanges events with the WebSocket session;
- web paths only, no realm, no WAMP endpoint at all: wampd starts, serves them and warns
  once; `wampd check` says the same;
- an SSE service on a native http listener: its stream gets the events a WebSocket
  session publishes.

    WAMPD_BIN=build/router/wampd python3 tests/crossbar/test_web_only.py
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from rsraw import RS, RSClosed  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS, HandshakeRefused  # noqa: E402

CONFIG = os.path.join(HERE, "configs", "web-only.json")
HELLO, WELCOME, PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT = 1, 2, 16, 17, 32, 33, 36
ROLES = {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}
NO_WAMP = "no listener serves a WAMP transport"


def curl(url, *args):
    """(status, headers text, body bytes) of one curl request."""
    out = subprocess.run(["curl", "-sS", "--max-time", "10", "-D", "-", "-o", "-"] +
                         list(args) + [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head.decode(errors="replace"), body


def port_of(url):
    return int(re.search(r":(\d+)/", url).group(1))


class CrossbarWebOnly(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=CONFIG).start()
        cls.web = cls.r.url_of("http")
        cls.web_port = port_of(cls.web)
        cls.ws_port = port_of(cls.r.url_of("ws"))

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()

    def test_listening(self):
        self.assertEqual(sorted(u.split(":")[0] for u in self.r.urls), ["http", "ws"],
                         self.r.urls)
        self.assertNotEqual(self.web_port, self.ws_port)
        self.assertNotIn(NO_WAMP, self.r.stderr())  # there are WAMP endpoints

    def test_web_paths_served_by_curl(self):
        st, head, body = curl(self.web)
        self.assertEqual(st, 200)
        with open(os.path.join(HERE, "configs", "web-only", "index.html"), "rb") as f:
            self.assertEqual(body, f.read())
        self.assertIn("text/html", head)
        st, _, body2 = curl(self.web + "index.html")
        self.assertEqual((st, body2), (200, body))
        st, head, body = curl(self.web + "json")
        self.assertEqual(st, 200)
        self.assertIn("application/json", head)
        self.assertEqual(json.loads(body), {"served": "by wampd", "n": [1, 2, 3]})
        st, head, body = curl(self.web + "json", "-I")  # HEAD: the head only
        self.assertEqual(st, 200)
        self.assertNotIn(b"served", body)
        self.assertEqual(curl(self.web + "missing.html")[0], 404)
        self.assertEqual(curl(self.web + "../web-only.json")[0], 404)

    def test_websocket_upgrade_refused(self):
        for path in ("/", "/json", "/lp", "/ws", "/index.html", "/x?y=/ws"):
            with self.subTest(path=path):
                st, _, body = curl(self.web.rstrip("/") + path, "-H", "Connection: Upgrade",
                                   "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
                                   "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                   "-H", "Sec-WebSocket-Protocol: wamp.2.json")
                self.assertEqual(st, 404)
                self.assertIn(b"no WebSocket on this port", body)
                ws = WS("127.0.0.1", self.web_port, path, connect=False)
                try:
                    with self.assertRaises(HandshakeRefused) as e:
                        ws.connect()
                finally:
                    ws.close()
                self.assertIn("404", e.exception.status)

    def test_rawsocket_refused(self):
        c = RS("127.0.0.1", self.web_port)
        try:
            reply = c.handshake("json")
            self.assertEqual(reply, bytes([0x7F, 0x10, 0, 0]))  # error 1: no RawSocket here
            with self.assertRaises(RSClosed):
                c.recv_exact(1)
        finally:
            c.close()

    def test_websocket_port_unaffected(self):
        w = WS("127.0.0.1", self.ws_port, "/")
        try:
            welcome = w.hello(details={"roles": ROLES})
            self.assertEqual(welcome[0], WELCOME, welcome)
            self.assertEqual(welcome[2]["authrole"], "anonymous")
        finally:
            w.close()
        # the web paths are the web transport's, not this port's
        st, _, _ = curl("http://127.0.0.1:%d/json" % self.ws_port)
        self.assertEqual(st, 404)

    def test_longpoll_on_the_web_port(self):
        """The long-poll service of the web-only transport is a WAMP transport of its own:
        its session joins realm1 (anonymous, the listener's default auth) and gets the
        events a WebSocket session on the other port publishes."""
        base = "http://127.0.0.1:%d/lp" % self.web_port
        st, _, body = curl(base + "/open", "-X", "POST", "--data-binary",
                           json.dumps({"protocols": ["wamp.2.json"]}))
        self.assertEqual(st, 200)
        lp = base + "/" + json.loads(body)["transport"]

        def send(msg):
            self.assertEqual(curl(lp + "/send", "-X", "POST", "--data-binary",
                                  json.dumps(msg))[0], 204)

        def receive():
            st, _, data = curl(lp + "/receive", "-X", "POST")
            self.assertEqual(st, 200)
            return json.loads(data)

        send([HELLO, "realm1", {"roles": ROLES}])
        welcome = receive()
        self.assertEqual(welcome[0], WELCOME, welcome)
        self.assertEqual(welcome[2]["authrole"], "anonymous")
        send([SUBSCRIBE, 1, {}, "com.webonly.news"])
        self.assertEqual(receive()[0], SUBSCRIBED)
        w = WS("127.0.0.1", self.ws_port, "/")
        try:
            self.assertEqual(w.hello(details={"roles": ROLES})[0], WELCOME)
            w.send([PUBLISH, 1, {"acknowledge": True}, "com.webonly.news", ["hi"]])
            self.assertEqual(w.recv()[0], PUBLISHED)
        finally:
            w.close()
        event = receive()
        self.assertEqual((event[0], event[4]), (EVENT, ["hi"]), event)
        self.assertEqual(curl(lp + "/close", "-X", "POST")[0], 204)


WEB_ONLY_NO_REALM = {"version": 2, "workers": [{"type": "router", "transports": [
    {"type": "web", "endpoint": {"type": "tcp", "port": 8080, "interface": "127.0.0.1"},
     "paths": {"json": {"type": "json", "value": [1]},
               "go": {"type": "redirect", "url": "/json"}}}]}]}


class NoWampEndpoint(unittest.TestCase):
    """Web paths only: no WAMP endpoint, no realm (as Crossbar starts it)."""

    def test_starts_serves_and_warns_once(self):
        with WampdProcess(config=WEB_ONLY_NO_REALM) as r:
            self.assertEqual([u.split(":")[0] for u in r.urls], ["http"])
            st, _, body = curl(r.url_of("http") + "json")
            self.assertEqual((st, json.loads(body)), (200, [1]))
            st, head, _ = curl(r.url_of("http") + "go")
            self.assertEqual(st, 302)
            self.assertIn("Location: /json", head)
            r.wait_log(r"router: wampd .* ready")
            self.assertEqual(r.stderr().count(NO_WAMP), 1, r.stderr())

    def test_check_says_so(self):
        fd, path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(WEB_ONLY_NO_REALM, f)
        try:
            out = subprocess.run([os.environ["WAMPD_BIN"], "check", "--config", path],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        finally:
            os.unlink(path)
        text = out.stdout.decode()
        self.assertEqual(out.returncode, 0, text)
        self.assertIn("http://127.0.0.1:8080/json json", text)
        self.assertIn("warning: " + NO_WAMP, text)
        self.assertIn("ok: wampd would start", text)


class SseOnHttpListener(unittest.TestCase):
    """SSE on an http listener: its streams are subscriber sessions of the listener's auth
    (anonymous here), fed by what a WebSocket session on another port publishes."""

    def test_stream_gets_events(self):
        cfg = {"listeners": [
            {"type": "http", "port": 0, "host": "127.0.0.1",
             "http": {"/sse": {"type": "sse", "realm": "realm1", "heartbeat": 0}}},
            {"type": "websocket", "port": 0, "host": "127.0.0.1", "path": "/ws"}],
            "realms": [{"name": "realm1"}]}
        with WampdProcess(config=cfg) as r:
            s = socket.create_connection(("127.0.0.1", port_of(r.url_of("http"))), timeout=5)
            try:
                s.sendall(b"GET /sse?topic=com.webonly.sse HTTP/1.1\r\nHost: x\r\n\r\n")
                buf = b""
                while b"\r\n\r\n" not in buf:
                    chunk = s.recv(4096)
                    self.assertTrue(chunk, "closed before the head")
                    buf += chunk
                self.assertTrue(buf.startswith(b"HTTP/1.1 200"), buf)
                self.assertIn(b"text/event-stream", buf)
                w = WS("127.0.0.1", port_of(r.url_of("ws")), "/ws")
                try:
                    self.assertEqual(w.hello(details={"roles": ROLES})[0], WELCOME)
                    w.send([PUBLISH, 1, {"acknowledge": True}, "com.webonly.sse", [42]])
                    self.assertEqual(w.recv()[0], PUBLISHED)
                finally:
                    w.close()
                while b"data: " not in buf or not buf.endswith(b"\n\n"):
                    chunk = s.recv(4096)
                    self.assertTrue(chunk, "closed before the event")
                    buf += chunk
                data = buf[buf.index(b"data: ") + 6:].split(b"\n", 1)[0]
                self.assertEqual(json.loads(data)["args"], [42])
            finally:
                s.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
