"""Issue #19: several WebSocket endpoints on one port, each served with exactly its own
configuration (the listener isolation of issue #17, within one port).

The attack: on a port that serves an anonymous path next to a ticket-only path, log in on
one path with what only the other accepts (an anonymous HELLO on the ticket path, the
ticket path's credential on the anonymous path), or get there by another route: the other
path's subprotocol, a query string, a Host header naming the other path's internal vhost,
RawSocket on the same port, a path no listener has.

Three routers: wampd's own listeners sharing a plain port, the same over TLS, and a
Crossbar configuration with an anonymous and a ticket-only WebSocket path on one universal
transport. Every login must join with its own path's role, every other path's method and
credential must be refused (ABORT), and nothing reaches a listener it was not meant for.
"""
# ctest-areas: websocket auth crossbar

import os
import shutil
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
SUBPROTOCOL = {"json": "wamp.2.json", "msgpack": "wamp.2.msgpack", "cbor": "wamp.2.cbor"}
PORT = 1  # every listener of the shared port: --port 0 moves the first one, the rest follow


def ticket_auth(authid, ticket, role):
    return {"ticket": {"type": "static", "principals": {authid: {"ticket": ticket, "role": role}}}}


def anonymous_auth(role):
    return {"anonymous": {"type": "static", "role": role}}


ANON = ("anonymous", None, None)
JOE = ("ticket", "joe", "t-joe")
ANN = ("ticket", "ann", "t-ann")


def realm(roles):
    return [{"name": "realm1", "roles": [
        {"name": r, "permissions": [{"uri": "", "match": "prefix", "allow": {
            "call": True, "register": True, "publish": True, "subscribe": True}}]}
        for r in roles]}]


class Base(unittest.TestCase):
    tls = None

    def ws(self, path, ser="json", host_header=None):
        ws = WS("127.0.0.1", self.port, path=path, protocols=(SUBPROTOCOL[ser],),
                tls=self.tls, connect=False)
        return connect_ws(ws, host_header)

    def rs(self, ser="json"):
        c = RS("127.0.0.1", self.port, tls=self.tls)
        c.handshake(ser)
        return c

    @staticmethod
    def login(conn, who):
        method, authid, secret = who
        details = {"roles": ROLES, "authmethods": [method]}
        if authid:
            details["authid"] = authid
        conn.send([HELLO, "realm1", details])
        msg = conn.recv()
        if msg[0] == CHALLENGE:
            conn.send([AUTHENTICATE, secret or "", {}])
            msg = conn.recv()
        conn.close()
        return msg

    def joins(self, conn, who, role):
        msg = self.login(conn, who)
        self.assertEqual(msg[0], WELCOME, "%s: %r" % (who, msg))
        self.assertEqual(msg[2].get("authrole"), role, msg)

    def refused(self, conn, who):
        try:
            msg = self.login(conn, who)
        except (Closed, RSClosed):
            msg = None
        self.assertTrue(msg is None or msg[0] == ABORT, "%s was admitted: %r" % (who, msg))
        if msg:
            self.assertIn(msg[2], ("wamp.error.no_matching_auth_method",
                                   "wamp.error.authentication_failed"), msg)

    def handshake_refused(self, path, ser="json", status=None):
        with self.assertRaises(HandshakeRefused) as e:
            self.ws(path, ser)
        if status:
            self.assertIn(status, e.exception.status)


class NativePlainPort(Base):
    """wampd's format: four listeners on one plain port."""

    @classmethod
    def setUpClass(cls):
        cls.router = WampdProcess(config={"listeners": [
            {"type": "websocket", "port": PORT, "host": "127.0.0.1", "path": "/anon",
             "serializers": ["json"], "auth": anonymous_auth("anon-role")},
            {"type": "websocket", "port": PORT, "host": "127.0.0.1", "path": "/ticket",
             "serializers": ["json", "msgpack"], "auth": ticket_auth("joe", "t-joe", "joe-role")},
            {"type": "rawsocket", "port": PORT, "host": "127.0.0.1", "serializers": ["json"],
             "auth": ticket_auth("ann", "t-ann", "ann-role")},
            {"type": "websocket", "port": PORT, "host": "127.0.0.1", "path": "*",
             "serializers": ["msgpack"], "auth": anonymous_auth("any-role")}],
            "realms": realm(["anon-role", "joe-role", "ann-role", "any-role"])}).start()
        cls.port = cls.router.port

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()

    def test_every_url_printed_on_the_one_port(self):
        ws = sorted(u for u in self.router.urls if u.startswith("ws://"))
        self.assertEqual(ws, sorted("ws://127.0.0.1:%d%s" % (self.port, p)
                                    for p in ("/anon", "/ticket", "/")))
        self.assertIn("rs://127.0.0.1:%d" % self.port, self.router.urls)

    def test_each_path_its_own_auth(self):
        self.joins(self.ws("/anon"), ANON, "anon-role")
        self.refused(self.ws("/anon"), JOE)
        self.refused(self.ws("/anon"), ANN)
        self.joins(self.ws("/ticket"), JOE, "joe-role")
        self.joins(self.ws("/ticket", "msgpack"), JOE, "joe-role")
        self.refused(self.ws("/ticket"), ANON)
        self.refused(self.ws("/ticket"), ANN)
        self.joins(self.rs(), ANN, "ann-role")
        self.refused(self.rs(), ANON)
        self.refused(self.rs(), JOE)
        # a path of none: the "*" listener, with its own auth and serializer
        self.joins(self.ws("/other", "msgpack"), ANON, "any-role")
        self.refused(self.ws("/other", "msgpack"), JOE)

    def test_no_other_route_in(self):
        # the query is not part of the path: still the ticket path's listener
        self.refused(self.ws("/ticket?x=/anon"), ANON)
        self.joins(self.ws("/ticket?x=/anon"), JOE, "joe-role")
        # another path's serializer is not this one's (nor is "*"'s)
        self.handshake_refused("/anon", "msgpack", "400")
        self.handshake_refused("/other", "json", "400")
        # a Host naming another listener's vhost moves nothing (vhost names: wampd-ws-NNNN)
        for n in range(6):
            for path, who, role in (("/ticket", JOE, "joe-role"), ("/anon", ANON, "anon-role")):
                c = self.ws(path, host_header="wampd-ws-%04d" % n)
                self.joins(c, who, role)
            self.refused(self.ws("/ticket", host_header="wampd-ws-%04d" % n), ANON)
            self.refused(self.ws("/anon", host_header="wampd-ws-%04d" % n), JOE)


class NativeTlsPort(Base):
    """The same over TLS: one TLS port, the listeners' vhost is the port's."""

    @classmethod
    def setUpClass(cls):
        cls.certdir = tempfile.mkdtemp(prefix="wampd-sharedport-")
        make_certs(cls.certdir)
        cls.tls = ssl.create_default_context(cafile=os.path.join(cls.certdir, "ca.pem"))
        tls = server_tls(cls.certdir, client_ca=False)
        cls.router = WampdProcess(config={"listeners": [
            {"type": "websocket", "port": PORT, "host": "127.0.0.1", "path": "/anon",
             "serializers": ["json"], "auth": anonymous_auth("anon-role"), "tls": tls},
            {"type": "websocket", "port": PORT, "host": "127.0.0.1", "path": "/ticket",
             "serializers": ["json"], "auth": ticket_auth("joe", "t-joe", "joe-role"),
             "tls": tls},
            {"type": "rawsocket", "port": PORT, "host": "127.0.0.1", "serializers": ["json"],
             "auth": ticket_auth("ann", "t-ann", "ann-role"), "tls": tls}],
            "realms": realm(["anon-role", "joe-role", "ann-role"])}).start()
        cls.port = cls.router.port

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def test_each_path_its_own_auth(self):
        self.assertIn("wss://127.0.0.1:%d/ticket" % self.port, self.router.urls)
        self.joins(self.ws("/anon"), ANON, "anon-role")
        self.refused(self.ws("/anon"), JOE)
        self.refused(self.ws("/anon"), ANN)
        self.joins(self.ws("/ticket"), JOE, "joe-role")
        self.joins(self.ws("/ticket?a=b"), JOE, "joe-role")
        self.refused(self.ws("/ticket"), ANON)
        self.refused(self.ws("/ticket"), ANN)
        self.joins(self.rs(), ANN, "ann-role")
        self.refused(self.rs(), ANON)
        self.refused(self.rs(), JOE)

    def test_no_other_route_in(self):
        self.handshake_refused("/other", status="404")
        self.handshake_refused("/ticket/", status="404")
        for n in range(4):
            self.refused(self.ws("/ticket", host_header="wampd-ws-%04d" % n), ANON)
            self.refused(self.ws("/anon", host_header="wampd-ws-%04d" % n), JOE)


class CrossbarUniversalPort(Base):
    """A Crossbar universal transport: an anonymous and a ticket-only WebSocket path, and
    RawSocket with its own serializers and auth, on one port."""

    @classmethod
    def setUpClass(cls):
        cls.router = WampdProcess(config={"version": 2, "workers": [{
            "type": "router", "realms": realm(["anon-role", "joe-role", "ann-role"]),
            "transports": [{
                "type": "universal", "endpoint": {"type": "tcp", "port": 8080,
                                                  "interface": "127.0.0.1"},
                "rawsocket": {"serializers": ["json"],
                              "auth": ticket_auth("ann", "t-ann", "ann-role")},
                "websocket": {
                    "anon": {"type": "websocket", "serializers": ["json"],
                             "auth": anonymous_auth("anon-role")},
                    "ticket": {"type": "websocket", "serializers": ["json", "msgpack"],
                               "auth": ticket_auth("joe", "t-joe", "joe-role")}}}]}]}).start()
        cls.port = cls.router.port

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()

    def test_each_path_its_own_auth(self):
        self.joins(self.ws("/anon"), ANON, "anon-role")
        self.refused(self.ws("/anon"), JOE)
        self.refused(self.ws("/anon"), ANN)
        self.joins(self.ws("/ticket", "msgpack"), JOE, "joe-role")
        self.refused(self.ws("/ticket"), ANON)
        self.refused(self.ws("/ticket"), ANN)
        self.joins(self.rs(), ANN, "ann-role")
        self.refused(self.rs(), ANON)
        self.refused(self.rs(), JOE)
        self.handshake_refused("/anon", "msgpack", "400")
        self.handshake_refused("/", status="404")
        for n in range(3):
            self.refused(self.ws("/ticket", host_header="wampd-ws-%04d" % n), ANON)
            self.refused(self.ws("/anon", host_header="wampd-ws-%04d" % n), JOE)


if __name__ == "__main__":
    unittest.main(verbosity=2)
