"""Shared base for wire tests: one real wampd per test class, a witness session kept open
across the class, and helpers asserting exact outcomes.

After every test the witness must still complete a call round trip through the router
(it registers a procedure and calls it): the router keeps serving others whatever the
test did to its own connection.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS, Closed, HandshakeRefused  # noqa: E402,F401

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, GOODBYE, ERROR = 1, 2, 3, 4, 5, 6, 8
PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, UNSUBSCRIBED, EVENT = 16, 17, 32, 33, 34, 35, 36
CALL, CANCEL, RESULT, REGISTER, REGISTERED, UNREGISTER, UNREGISTERED = 48, 49, 50, 64, 65, 66, 67
INVOCATION, INTERRUPT, YIELD = 68, 69, 70

PROTOCOL_VIOLATION = "wamp.error.protocol_violation"


class WireCase(unittest.TestCase):
    config = None  # a dict for the router's --config, or None for the embedded default

    @classmethod
    def setUpClass(cls):
        cls.router = WampdProcess(config=cls.config).start()
        cls.host, cls.port, cls.path = "127.0.0.1", cls.router.port, cls.router.path
        cls.witness = cls.open("wamp.2.json")
        welcome = cls.witness.hello()
        assert welcome[0] == WELCOME, welcome
        cls.witness.send([REGISTER, 1, {}, "com.witness.echo"])
        assert cls.witness.recv()[0] == REGISTERED
        cls.witness_req = 100

    @classmethod
    def tearDownClass(cls):
        cls.witness.close()
        cls.router.stop()

    @classmethod
    def open(cls, *protocols, path=None, **kw):
        return WS(cls.host, cls.port, path or cls.path, protocols=protocols or ("wamp.2.json",),
                  **kw)

    def tearDown(self):
        self.assert_witness_alive()

    def assert_witness_alive(self):
        """The witness calls its own procedure through the router: INVOCATION, then RESULT."""
        w = type(self).witness
        type(self).witness_req += 1
        req = type(self).witness_req
        w.send([CALL, req, {}, "com.witness.echo", [req]])
        inv = w.recv()
        self.assertEqual(inv[0], INVOCATION, inv)
        w.send([YIELD, inv[1], {}, inv[4]])
        res = w.recv()
        self.assertEqual(res[0], RESULT, res)
        self.assertEqual(res[1], req)
        self.assertEqual(res[3], [req])

    # ---------------------------------------------------------------- helpers
    def session(self, protocol="wamp.2.json", realm="realm1", details=None):
        ws = self.open(protocol)
        welcome = ws.hello(realm, details)
        self.assertEqual(welcome[0], WELCOME, welcome)
        return ws

    def assert_abort(self, ws, uri=PROTOCOL_VIOLATION, code=1002):
        """The next message is ABORT <uri> (with a message), then the close with <code>."""
        msg = ws.recv()
        self.assertEqual(msg[0], ABORT, msg)
        self.assertEqual(msg[2], uri, msg)
        self.assertIsInstance(msg[1].get("message"), str)
        self.assertEqual(ws.expect_close(), code)
        ws.close()

    def assert_error(self, ws, req_type, req_id, uri):
        msg = ws.recv()
        self.assertEqual(msg[0], ERROR, msg)
        self.assertEqual(msg[1], req_type, msg)
        self.assertEqual(msg[2], req_id, msg)
        self.assertEqual(msg[4], uri, msg)
        return msg
