"""Shared base of the HTTP services' tests (tests/http, tests/security): one real wampd per
test class, started from the class's CONFIG, and the WAMP sessions on the other side of the
services as raw WebSocket clients (tests/wire/wsraw.py), closed after each test.

    class Bridge(RouterCase):
        CONFIG = {...}            # the router's configuration
        PEER_TLS = None           # an ssl.SSLContext when the peers connect with wss://

        def test_x(self):
            w = self.subscriber("com.t")   # self.r (WampdProcess), self.port
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS  # noqa: E402

WELCOME, SUBSCRIBE, SUBSCRIBED, REGISTER, REGISTERED = 2, 32, 33, 64, 65

# the roles a peer announces: every one, and call canceling (for the bridge's timeouts)
ROLES = {"caller": {}, "callee": {"features": {"call_canceling": True}}, "publisher": {},
         "subscriber": {}}


class RouterCase(unittest.TestCase):
    CONFIG = None
    PEER_TLS = None

    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=cls.CONFIG).start()
        cls.port = cls.r.port

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()

    def ws(self, port=None, tls=None):
        """A session on realm1 (at /ws of this router's port, or of `port`)."""
        w = WS("127.0.0.1", port or self.port, "/ws", tls=tls or self.PEER_TLS)
        welcome = w.hello(details={"roles": ROLES})
        self.assertEqual(welcome[0], WELCOME, welcome)
        self.addCleanup(w.close)
        return w

    def subscriber(self, topic, **kw):
        w = self.ws(**kw)
        w.send([SUBSCRIBE, 1, {}, topic])
        self.assertEqual(w.recv()[0], SUBSCRIBED)
        return w

    def callee(self, procedure, **kw):
        w = self.ws(**kw)
        w.send([REGISTER, 1, {}, procedure])
        self.assertEqual(w.recv()[0], REGISTERED)
        return w
