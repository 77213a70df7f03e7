"""Issue #17, finding 1: every listener is served with exactly its own configuration.

The attack: with several listeners, connect to one and be served with another one's path,
serializers or authentication methods (an anonymous HELLO on a ticket-only listener got
WELCOME with the first listener's anonymous role, because libwebsockets re-bound every
adopted WebSocket connection to the first listener's vhost by the Host header).

One router with six listeners of every kind, each with its own path, serializer and
authentication method, started in two orders (a RawSocket listener first, then last); for
every listener: its own credential joins with its own role, every other listener's method
and credential is refused, another listener's path and serializer are refused, and a Host
header naming another listener's internal vhost changes nothing.
"""
# ctest-areas: websocket auth

import json
import os
import shutil
import ssl
import subprocess
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

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE = 1, 2, 3, 4, 5
ROLES = {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}


def ticket_auth(authid, ticket, role):
    return {"ticket": {"type": "static", "principals": {authid: {"ticket": ticket, "role": role}}}}


def anonymous_auth(role):
    return {"anonymous": {"type": "static", "role": role}}


# name -> (listener config without ports, how to log in: (authmethod, authid, secret), role)
LISTENERS = {
    "raw": ({"type": "rawsocket", "serializers": ["json"], "auth": anonymous_auth("raw-anon")},
            ("anonymous", None, None), "raw-anon"),
    "ticket": ({"type": "websocket", "path": "/ticket", "serializers": ["msgpack"],
                "auth": ticket_auth("joe", "t-joe", "ticket-user")},
               ("ticket", "joe", "t-joe"), "ticket-user"),
    "anon": ({"type": "websocket", "path": "/anon", "serializers": ["json"],
              "auth": anonymous_auth("ws-anon")},
             ("anonymous", None, None), "ws-anon"),
    "uni": ({"type": "universal", "path": "/uni", "serializers": ["cbor"],
             "auth": ticket_auth("ann", "t-ann", "uni-user")},
            ("ticket", "ann", "t-ann"), "uni-user"),
    "tls": ({"type": "websocket", "path": "/tls", "serializers": ["json"],
             "auth": ticket_auth("tom", "t-tom", "tls-user")},
            ("ticket", "tom", "t-tom"), "tls-user"),
    "tlsanon": ({"type": "websocket", "path": "/tlsanon", "serializers": ["json"],
                 "auth": anonymous_auth("tls-anon")},
                ("anonymous", None, None), "tls-anon"),
}
SUBPROTOCOL = {"json": "wamp.2.json", "msgpack": "wamp.2.msgpack", "cbor": "wamp.2.cbor"}
# names of the libwebsockets vhosts wampd creates (and created before the fix): a client
# that names one in its Host header must not be moved to it
VHOST_NAMES = (["wampd-ws-%04d" % i for i in range(6)] + ["wampd-front-%04d" % i for i in range(6)]
               + ["wampd-rawtls-%04d" % i for i in range(6)] + ["wampd-ws-", "wampd", "w"]
               + ["ws%d" % i for i in range(6)] + ["front%d" % i for i in range(6)]
               + ["localhost", "127.0.0.1", "backplane", "reuseport", "default"])


class Router:
    """A wampd with the listeners in `order`; .where[name] = (scheme, host, port, path)."""

    def __init__(self, order, certdir):
        listeners = []
        for name in order:
            cfg = dict(LISTENERS[name][0], host="127.0.0.1", port=0)
            if name.startswith("tls"):
                cfg["tls"] = server_tls(certdir, client_ca=False)
            listeners.append(cfg)
        roles = [{"name": role, "permissions": [
            {"uri": "", "match": "prefix",
             "allow": {"call": True, "register": True, "publish": True, "subscribe": True}}]}
            for _, _, role in LISTENERS.values()]
        self.proc = WampdProcess(config={"listeners": listeners,
                                         "realms": [{"name": "realm1", "roles": roles}]}).start()
        urls = list(self.proc.urls)
        self.where = {}
        ws = [u for u in urls if u.startswith(("ws://", "wss://"))]
        rs = [u for u in urls if u.startswith("rs://")]
        for name in order:
            if name == "raw":
                self.where[name] = ("rs",) + hostport(rs.pop(0)) + ("",)
                continue
            path = LISTENERS[name][0]["path"]
            url = next(u for u in ws if u.endswith(path) and u.split(":", 1)[0] in ("ws", "wss")
                       and hostport_path(u)[2] == path)
            scheme = url.split(":", 1)[0]
            self.where[name] = (scheme,) + hostport(url) + (path,)
            if name == "uni":
                self.where["uni-rs"] = ("rs",) + hostport(rs.pop(0)) + ("",)

    def stop(self):
        self.proc.stop()


def hostport(url):
    rest = url.split("://", 1)[1].split("/", 1)[0]
    host, port = rest.rsplit(":", 1)
    return host, int(port)


def hostport_path(url):
    host, port = hostport(url)
    return host, port, "/" + url.split("://", 1)[1].split("/", 1)[1]


class Isolation(unittest.TestCase):
    orders = [["raw", "ticket", "anon", "uni", "tls", "tlsanon"],
              ["tlsanon", "tls", "uni", "anon", "ticket", "raw"]]

    @classmethod
    def setUpClass(cls):
        cls.certdir = tempfile.mkdtemp(prefix="wampd-iso-")
        make_certs(cls.certdir)
        cls.tls = ssl.create_default_context(cafile=os.path.join(cls.certdir, "ca.pem"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certdir, ignore_errors=True)

    # ------------------------------------------------------------------ clients
    def connect(self, router, name, serializer=None, path=None, host_header=None):
        """A connected transport to listener `name` (WS or RS)."""
        scheme, host, port, own_path = router.where[name]
        ser = serializer or LISTENERS[name.replace("-rs", "")][0]["serializers"][0]
        if scheme == "rs":
            c = RS(host, port)
            c.handshake(ser)
            return c
        ws = WS(host, port, path=path or own_path, protocols=(SUBPROTOCOL[ser],),
                tls=self.tls if scheme == "wss" else None, connect=False)
        return connect_ws(ws, host_header)

    def login(self, conn, method, authid, secret):
        """HELLO with one method; answers the challenge; returns the final message."""
        details = {"roles": ROLES, "authmethods": [method]}
        if authid:
            details["authid"] = authid
        conn.send([HELLO, "realm1", details])
        msg = conn.recv()
        if msg[0] == CHALLENGE:
            conn.send([AUTHENTICATE, secret or "", {}])
            msg = conn.recv()
        return msg

    def assert_joins(self, router, name, method, authid, secret, role, **kw):
        c = self.connect(router, name, **kw)
        msg = self.login(c, method, authid, secret)
        c.close()
        self.assertEqual(msg[0], WELCOME, "%s via %s: %r" % (name, method, msg))
        self.assertEqual(msg[2].get("authrole"), role, "%s: %r" % (name, msg))
        self.assertEqual(msg[2].get("authmethod"), method)

    def assert_refused(self, router, name, method, authid, secret, why):
        c = self.connect(router, name)
        try:
            msg = self.login(c, method, authid, secret)
        except (Closed, RSClosed):
            msg = None
        c.close()
        self.assertTrue(msg is None or msg[0] == ABORT,
                        "%s must refuse %s (%s) but answered %r" % (name, method, why, msg))

    # ------------------------------------------------------------------ the matrix
    def check_router(self, order):
        router = Router(order, self.certdir)
        try:
            names = list(router.where)
            for name in names:
                own = LISTENERS[name.replace("-rs", "")]
                method, authid, secret = own[1]
                with self.subTest(order=order[0], listener=name, case="own credential"):
                    self.assert_joins(router, name, method, authid, secret, own[2])
                for other, (ocfg, (om, oid, osecret), orole) in LISTENERS.items():
                    if other == name.replace("-rs", ""):
                        continue
                    if om == method and method == "anonymous":
                        continue  # both anonymous: joins, with its own role (checked above)
                    with self.subTest(order=order[0], listener=name, other=other):
                        self.assert_refused(router, name, om, oid, osecret,
                                            "credential of listener %s" % other)
                # another listener's path and serializer on this port
                scheme = router.where[name][0]
                if scheme in ("ws", "wss"):
                    for other, (ocfg, _, _) in LISTENERS.items():
                        opath = ocfg.get("path")
                        if opath and opath != router.where[name][3]:
                            with self.subTest(order=order[0], listener=name, path=opath):
                                with self.assertRaises(HandshakeRefused):
                                    self.connect(router, name, path=opath)
                    for ser in SUBPROTOCOL:
                        if ser not in own[0]["serializers"]:
                            with self.subTest(order=order[0], listener=name, serializer=ser):
                                with self.assertRaises(HandshakeRefused):
                                    self.connect(router, name, serializer=ser)
                    for vh in VHOST_NAMES:
                        with self.subTest(order=order[0], listener=name, host=vh):
                            self.assert_joins(router, name, method, authid, secret, own[2],
                                              host_header=vh)
                            if method != "anonymous":
                                c = self.connect(router, name, host_header=vh)
                                msg = self.login(c, "anonymous", None, None)
                                c.close()
                                self.assertEqual(msg[0], ABORT, "%s Host %s: %r" % (name, vh, msg))
        finally:
            router.stop()

    def test_rawsocket_first(self):
        self.check_router(self.orders[0])

    def test_tls_first(self):
        self.check_router(self.orders[1])

    def test_tls_port_shared_refused(self):
        """A TLS listener sharing its port number with another listener (on another
        address) would be served with one of the two configurations: refused at start."""
        tls = server_tls(self.certdir, client_ca=False)
        for second_tls in (True, False):
            second = dict(LISTENERS["anon"][0], host="127.0.0.2", port=1)
            if second_tls:
                second["tls"] = tls
            cfg = {"listeners": [dict(LISTENERS["raw"][0], host="127.0.0.1", port=0),
                                 dict(LISTENERS["tls"][0], host="127.0.0.1", port=1, tls=tls),
                                 second]}
            with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
                json.dump(cfg, f)
                f.flush()
                p = subprocess.run([os.environ["WAMPD_BIN"], "--config", f.name],
                                   capture_output=True, text=True, timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("listeners[2].port", p.stderr)
            self.assertIn("cannot share its port", p.stderr)


def connect_ws(ws, host_header):
    """WS.connect, with the Host line replaced when host_header is given."""
    if not host_header:
        return ws.connect()
    import base64
    import socket
    sock = socket.create_connection((ws.host, ws.port), timeout=ws.timeout)
    if ws.tls:
        sock = ws.tls.wrap_socket(sock, server_hostname="localhost")
    ws.sock = sock
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % ws.path, "Host: %s" % host_header, "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Protocol: " + ", ".join(ws.protocols)]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        head = ws._read_until(b"\r\n\r\n")
    except Closed:
        raise HandshakeRefused("connection closed without a response", ws.buf)
    if b" 101 " not in head.split(b"\r\n", 1)[0] + b" ":
        raise HandshakeRefused(head.split(b"\r\n", 1)[0].decode(errors="replace"), head)
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"sec-websocket-protocol:"):
            ws.protocol = line.split(b":", 1)[1].strip().decode()
    return ws


if __name__ == "__main__":
    unittest.main(verbosity=2)
