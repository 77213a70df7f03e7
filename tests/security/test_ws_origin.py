"""Cross-site WebSocket hijacking: a listener's allowed_origins applies to its WebSocket
handshakes (plain and TLS), not only to its HTTP services.

A web page on another origin must not open a session on a listener that lists its origins,
since the browser would bring what it authenticates by itself (here a TLS client
certificate: the page would join as the device). A client without Origin is no browser and
is let through; a listener without allowed_origins lets every origin through (Crossbar's
default). RawSocket has no origin and is not affected.
"""
# ctest-areas: websocket tls

import os
import shutil
import ssl
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from rsraw import RS  # noqa: E402
from tlscerts import client_context, make_certs, server_tls  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS, HandshakeRefused  # noqa: E402

WELCOME = 2
ALLOWED = ["https://app.example.com", "http://localhost:*"]
AUTH = {"tls": {"type": "static", "principals": {"device-7": {"role": "device"}}},
        "anonymous": {"type": "static", "role": "public"}}


class WsOrigin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="wampd-origin-")
        make_certs(cls.certs)
        cls.r = WampdProcess(config={
            "listeners": [
                {"type": "universal", "port": 0, "path": "/ws", "allowed_origins": ALLOWED},
                {"type": "websocket", "port": 0, "path": "/tls", "allowed_origins": ALLOWED,
                 "tls": server_tls(cls.certs), "auth": AUTH},
                {"type": "websocket", "port": 0, "path": "/open"}],
            "realms": [{"name": "realm1"}]}).start()
        ports = {u.rsplit("/", 1)[1]: int(u.split(":")[2].split("/")[0])
                 for u in cls.r.urls if u.startswith("ws")}
        cls.plain, cls.tls, cls.open_port = ports["ws"], ports["tls"], ports["open"]
        cls.rs_port = int(next(u for u in cls.r.urls if u.startswith("rs://")).rsplit(":", 1)[1])

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def join(self, port, path, origin, tls=False):
        headers = {"Origin": origin} if origin is not None else {}
        ws = WS("127.0.0.1", port, path=path, extra_headers=headers,
                tls=client_context(self.certs, "client") if tls else None)
        details = {"roles": {"caller": {}}, "authmethods": ["tls", "anonymous"]}
        w = ws.hello(details=details)
        ws.close()
        self.assertEqual(w[0], WELCOME, w)
        return w[2]

    def test_foreign_origins_refused(self):
        for origin in ("https://evil.example", "https://app.example.com.evil.example",
                       "https://evil.example/https://app.example.com", "http://app.example.com",
                       "null", "https://APP.example.com:444", "http://localhost.evil:80"):
            with self.subTest(origin=origin, listener="plain"):
                with self.assertRaises(HandshakeRefused):
                    self.join(self.plain, "/ws", origin)
            with self.subTest(origin=origin, listener="tls"):
                with self.assertRaises(HandshakeRefused):
                    self.join(self.tls, "/tls", origin, tls=True)

    def test_allowed_origins_and_no_origin_join(self):
        for origin in ("https://app.example.com", "https://APP.Example.com",
                       "http://localhost:5173", None):
            with self.subTest(origin=origin):
                self.join(self.plain, "/ws", origin)
                details = self.join(self.tls, "/tls", origin, tls=True)
                self.assertEqual((details["authid"], details["authrole"]), ("device-7", "device"))

    def test_listener_without_list_takes_any_origin(self):
        self.join(self.open_port, "/open", "https://anything.example")

    def test_rawsocket_unaffected(self):
        rs = RS("127.0.0.1", self.rs_port)
        rs.handshake("json")
        self.assertEqual(rs.hello()[0], WELCOME)
        rs.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
