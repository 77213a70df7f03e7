"""Issue #19: an http listener (listeners[].type "http", what a Crossbar web transport
without WebSocket paths becomes) serves HTTP services only: no WebSocket or RawSocket
session ever gets in through it.

The attack: reach a WAMP session through the web port, by any route: a WebSocket upgrade
to any path (a service's, "/", "*", the WebSocket path of another listener of the port, a
query naming it), with every WAMP subprotocol, with a Host header naming any internal
vhost (wampd-ws-NNNN, one of which the http listener's number would be); a RawSocket
handshake; an upgrade on a kept-alive HTTP connection after a served request; raw WAMP
bytes after that. The http listener's auth is anonymous (its long-poll sessions' if it had
one), so a session that got in would join as "web-anon": none may. A WebSocket listener
sharing the port keeps its own ticket-only auth (an anonymous HELLO there is refused), and
its credential still joins.

Routers: wampd's own listeners on a plain port (http + ticket-only WebSocket sharing it,
and an http listener alone on another port), the same on one TLS port (the http listener
first: the port's vhost is made by it), and a Crossbar web transport with static and json
paths only.
"""
# ctest-areas: websocket http auth crossbar tls

import json
import os
import shutil
import socket
import ssl
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from rsraw import RS, RSClosed  # noqa: E402
from tlscerts import make_certs, server_tls  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS, Closed, HandshakeRefused  # noqa: E402
from test_listener_isolation import connect_ws  # noqa: E402

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE = 1, 2, 3, 4, 5
ROLES = {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}
SUBPROTOCOLS = ("wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor", "wamp.2.json.batched")
PORT = 1  # the listeners sharing the first one's port: --port 0 moves them together
PATHS = ("/", "/j", "/index.html", "/ws/", "/wsx", "*", "/x?y=/ws", "/j?transport=ws",
         "//ws", "/%77s")
HOSTS = (None, "localhost", "wampd-ws-0000", "wampd-ws-0001", "wampd-ws-0002",
         "wampd-ws-0003", "wampd-front-0000")
HELLO_ANON = [HELLO, "realm1", {"roles": ROLES, "authmethods": ["anonymous"]}]

REALMS = [{"name": "realm1", "roles": [
    {"name": r, "permissions": [{"uri": "", "match": "prefix", "allow": {
        "call": True, "register": True, "publish": True, "subscribe": True}}]}
    for r in ("web-anon", "joe-role")]}]
WEB_ANON = {"anonymous": {"type": "static", "role": "web-anon"}}
JOE = {"ticket": {"type": "static", "principals": {"joe": {"ticket": "t-joe",
                                                             "role": "joe-role"}}}}


def web_dir():
    d = tempfile.mkdtemp(prefix="wampd-httponly-")
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write("<p>web</p>\n")
    return d


class Base(unittest.TestCase):
    tls = None
    ws_path = None  # the WebSocket listener's path on the web port, if it has one

    def no_session_by_websocket(self, port, path, host, protocol):
        ws = WS("127.0.0.1", port, path=path, protocols=(protocol,), tls=self.tls,
                connect=False)
        try:
            connect_ws(ws, host)
        except HandshakeRefused as e:
            ws.close()
            # a 4xx answer (lws' own over TLS: HTTP/1.0), or closed (over TLS, an offer of
            # none of the port's subprotocols)
            self.assertRegex(e.status, r"^(HTTP/1\.[01] 4\d\d |connection closed)")
            return
        # the upgrade was taken: whatever listener took it must not admit an anonymous
        # HELLO (it can only be the port's ticket-only WebSocket listener: over TLS lws
        # makes "//ws" and "/%77s" its path "/ws")
        try:
            if ws.protocol == "wamp.2.json.batched":
                ws.send_text(json.dumps(HELLO_ANON) + "\x1e")
                op, _, payload = ws.recv_frame()
                msg = json.loads(payload.decode().split("\x1e")[0]) if op == 1 else None
            else:
                ws.send(HELLO_ANON)
                msg = ws.recv()
        except Closed:
            msg = None
        finally:
            ws.close()
        self.assertTrue(msg is None or msg[0] == ABORT,
                        "%s Host %s %s: a session got in: %r" % (path, host, protocol, msg))

    def no_session_by_rawsocket(self, port):
        c = RS("127.0.0.1", port, tls=self.tls)
        try:
            try:
                reply = c.handshake("json")
            except (RSClosed, TimeoutError):
                return
            # RawSocket's error 1 (no serializer served), or an HTTP answer: not accepted
            self.assertFalse(reply[0] == 0x7F and reply[1] & 0x0F, reply)
            try:
                c.ser = "json"
                c.send(HELLO_ANON)
                msg = c.recv(timeout=2)
            except (RSClosed, TimeoutError, OSError, ValueError):
                msg = None
            self.assertFalse(msg and msg[0] == WELCOME, msg)
        finally:
            c.close()

    def no_upgrade_after_a_request(self, port, path):
        """A kept-alive connection: a served GET, then an upgrade, then WAMP bytes."""
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if self.tls:
            s = self.tls.wrap_socket(s, server_hostname="localhost")
        try:
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
            buf = self.read_some(s)
            self.assertTrue(buf.startswith(b"HTTP/1.1 200"), buf[:80])
            try:
                s.sendall(b"GET /ws HTTP/1.1\r\nHost: wampd-ws-0001\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          b"Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n")
                more = self.read_some(s)
            except OSError:
                more = b""  # closed after the first request (lws' HTTP role over TLS)
            self.assertNotIn(b" 101 ", more)
            try:
                s.sendall(json.dumps(HELLO_ANON).encode())
                more += self.read_some(s)
            except OSError:
                pass
            self.assertNotIn(b"web-anon", more)
            self.assertNotIn(b"\"authrole\"", more)
        finally:
            s.close()

    @staticmethod
    def read_some(s, timeout=3):
        s.settimeout(timeout)
        try:
            data = s.recv(65536)
        except (socket.timeout, ssl.SSLError, ConnectionResetError):
            return b""
        return data

    def web_port_is_sealed(self, port):
        for path in PATHS:
            for host in HOSTS:
                for protocol in SUBPROTOCOLS:
                    with self.subTest(port=port, path=path, host=host, protocol=protocol):
                        self.no_session_by_websocket(port, path, host, protocol)
        self.no_session_by_rawsocket(port)
        self.no_upgrade_after_a_request(port, "/j")

    def joe_joins(self, port, path, host=None):
        ws = connect_ws(WS("127.0.0.1", port, path=path, tls=self.tls, connect=False), host)
        try:
            ws.send([HELLO, "realm1", {"roles": ROLES, "authmethods": ["ticket"],
                                       "authid": "joe"}])
            msg = ws.recv()
            self.assertEqual(msg[0], CHALLENGE, msg)
            ws.send([AUTHENTICATE, "t-joe", {}])
            msg = ws.recv()
            self.assertEqual(msg[0], WELCOME, msg)
            self.assertEqual(msg[2]["authrole"], "joe-role")
        finally:
            ws.close()

    def anonymous_refused(self, port, path, host=None):
        ws = connect_ws(WS("127.0.0.1", port, path=path, tls=self.tls, connect=False), host)
        try:
            ws.send(HELLO_ANON)
            try:
                msg = ws.recv()
            except Closed:
                msg = None
        finally:
            ws.close()
        self.assertTrue(msg is None or msg[0] == ABORT, msg)


class NativePlain(Base):
    """An http listener sharing a plain port with a ticket-only WebSocket listener, and an
    http listener alone on another port."""

    @classmethod
    def setUpClass(cls):
        cls.dir = web_dir()
        web = {"/": {"type": "static", "directory": cls.dir},
               "/j": {"type": "json", "value": {"web": True}}}
        cls.router = WampdProcess(config={"listeners": [
            {"type": "http", "port": PORT, "host": "127.0.0.1", "auth": WEB_ANON, "http": web},
            {"type": "websocket", "port": PORT, "host": "127.0.0.1", "path": "/ws",
             "serializers": ["json"], "auth": JOE},
            {"type": "http", "port": 0, "host": "127.0.0.1", "auth": WEB_ANON,
             "http": {"/j": {"type": "json", "value": 1}}}],
            "realms": REALMS}).start()
        http = [u for u in cls.router.urls if u.startswith("http://")]
        cls.shared = cls.router.port  # the WebSocket URL's: the port it shares
        cls.alone = [int(u.rsplit(":", 1)[1].rstrip("/")) for u in http
                     if int(u.rsplit(":", 1)[1].rstrip("/")) != cls.shared][0]

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_urls(self):
        self.assertIn("http://127.0.0.1:%d/" % self.shared, self.router.urls)
        self.assertIn("ws://127.0.0.1:%d/ws" % self.shared, self.router.urls)
        self.assertIn("http://127.0.0.1:%d/" % self.alone, self.router.urls)
        self.assertFalse([u for u in self.router.urls if u.startswith("rs")])

    def test_shared_port_sealed(self):
        self.web_port_is_sealed(self.shared)

    def test_alone_port_sealed(self):
        self.web_port_is_sealed(self.alone)

    def test_websocket_listener_keeps_its_own_auth(self):
        for host in HOSTS:
            self.joe_joins(self.shared, "/ws", host)
            self.anonymous_refused(self.shared, "/ws", host)
        self.joe_joins(self.shared, "/ws?x=/j")


class NativeTls(Base):
    """The same on one TLS port whose first listener (the vhost's maker) is the http one."""

    @classmethod
    def setUpClass(cls):
        cls.certdir = tempfile.mkdtemp(prefix="wampd-httponly-tls-")
        make_certs(cls.certdir)
        cls.tls = ssl.create_default_context(cafile=os.path.join(cls.certdir, "ca.pem"))
        tls = server_tls(cls.certdir, client_ca=False)
        cls.dir = web_dir()
        cls.router = WampdProcess(config={"listeners": [
            {"type": "http", "port": PORT, "host": "127.0.0.1", "auth": WEB_ANON, "tls": tls,
             "http": {"/": {"type": "static", "directory": cls.dir},
                      "/j": {"type": "json", "value": {"web": True}}}},
            {"type": "websocket", "port": PORT, "host": "127.0.0.1", "path": "/ws",
             "serializers": ["json"], "auth": JOE, "tls": tls},
            {"type": "http", "port": 0, "host": "127.0.0.1", "auth": WEB_ANON, "tls": tls,
             "http": {"/j": {"type": "json", "value": 1}}}],
            "realms": REALMS}).start()
        cls.shared = cls.router.port
        https = [u for u in cls.router.urls if u.startswith("https://")]
        cls.alone = [int(u.rsplit(":", 1)[1].rstrip("/")) for u in https
                     if int(u.rsplit(":", 1)[1].rstrip("/")) != cls.shared][0]

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()
        shutil.rmtree(cls.certdir, ignore_errors=True)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_urls(self):
        self.assertIn("https://127.0.0.1:%d/" % self.shared, self.router.urls)
        self.assertIn("wss://127.0.0.1:%d/ws" % self.shared, self.router.urls)

    def test_shared_port_sealed(self):
        self.web_port_is_sealed(self.shared)

    def test_alone_port_sealed(self):
        self.web_port_is_sealed(self.alone)

    def test_websocket_listener_keeps_its_own_auth(self):
        for host in HOSTS:
            self.joe_joins(self.shared, "/ws", host)
            self.anonymous_refused(self.shared, "/ws", host)


class CrossbarWebTransport(Base):
    """A Crossbar web transport with static and json paths only (no WebSocket path)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = web_dir()
        cls.router = WampdProcess(config={"version": 2, "workers": [{
            "type": "router", "realms": REALMS, "transports": [{
                "type": "web", "endpoint": {"type": "tcp", "port": 8080,
                                            "interface": "127.0.0.1"},
                "paths": {"/": {"type": "static", "directory": cls.dir},
                          "j": {"type": "json", "value": [1]}}}]}]}).start()
        cls.port = cls.router.port

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_sealed(self):
        self.assertEqual(self.router.urls, ["http://127.0.0.1:%d/" % self.port])
        self.web_port_is_sealed(self.port)


if __name__ == "__main__":
    unittest.main(verbosity=2)
