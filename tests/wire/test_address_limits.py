"""Per-address limits on the wire: concurrent connections per IP (completed sessions and
half-open handshakes alike: slowloris), failed authentications per IP (brute-force brake),
and pending calls per callee. Every case checks the witness session keeps working."""

import socket
import time
import unittest

from wirecase import (ABORT, CALL, CHALLENGE, REGISTER, REGISTERED, WELCOME, HandshakeRefused,
                      WireCase)


def wait_until(fn, timeout=5.0):
    """Retry fn until it returns a true value or the deadline passes (then re-raise)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = fn()
            if v:
                return v
        except (HandshakeRefused, OSError):
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %.1f s" % timeout)
        time.sleep(0.05)


class PerAddressConnections(WireCase):
    # the witness holds one of the four
    config = {"realms": [{"name": "realm1"}], "limits": {"max_sessions_per_ip": 4}}

    def refused(self):
        with self.assertRaises(HandshakeRefused) as cm:
            self.open()
        self.assertIn("429", cm.exception.status)

    def test_sessions_per_address(self):
        sessions = [self.session() for _ in range(3)]
        self.refused()
        sessions.pop().close()
        # the router sees the close asynchronously: retry until the slot is free
        ws = wait_until(lambda: self.session())
        self.refused()
        for s in sessions + [ws]:
            s.close()

    def test_half_open_handshakes_count(self):
        raw = []
        for _ in range(3):
            s = socket.create_connection((self.host, self.port), timeout=5)
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\n")  # never finished
            raw.append(s)
        self.refused()
        for s in raw:
            s.close()
        wait_until(lambda: self.session()).close()


class AuthFailuresPerAddress(WireCase):
    config = {
        "listeners": [{"auth": {
            "ticket": {"type": "static", "principals": {"joe": {"ticket": "secret", "role": "user"}}},
            "anonymous": {"type": "static", "role": "user"}}}],
        "realms": [{"name": "realm1", "roles": [{"name": "user", "permissions": [
            {"uri": "", "match": "prefix",
             "allow": {"call": True, "register": True, "publish": True, "subscribe": True}}]}]}],
        "limits": {"max_auth_failures_per_ip": 3, "auth_failure_window": 600},
    }

    def ticket_hello(self, ticket):
        ws = self.open()
        msg = ws.hello("realm1", {"authmethods": ["ticket"], "authid": "joe"})
        if msg[0] == CHALLENGE:
            ws.send([5, ticket, {}])
            msg = ws.recv()
        return ws, msg

    def test_blocked_after_failures(self):
        for _ in range(3):
            ws, msg = self.ticket_hello("wrong")
            self.assertEqual(msg[0], ABORT, msg)
            self.assertEqual(msg[2], "wamp.error.authentication_failed")
            ws.close()
        # now even the right ticket, or anonymous, is refused from this address
        ws, msg = self.ticket_hello("secret")
        self.assertEqual(msg[0], ABORT, msg)
        self.assertEqual(msg[2], "wamp.error.authentication_failed")
        self.assertIn("too many", msg[1]["message"])
        ws.close()
        ws = self.open()
        msg = ws.hello("realm1", {})
        self.assertEqual(msg[0], ABORT, msg)
        ws.close()


class PendingCallsPerCallee(WireCase):
    config = {"realms": [{"name": "realm1"}], "limits": {"max_pending_calls_per_callee": 2}}

    def test_callee_limit(self):
        callee = self.session()
        callee.send([REGISTER, 1, {}, "com.slow"])
        self.assertEqual(callee.recv()[0], REGISTERED)
        a, b = self.session(), self.session("wamp.2.msgpack")
        a.send([CALL, 1, {}, "com.slow"])
        a.send([CALL, 2, {}, "com.slow"])
        for _ in range(2):
            self.assertEqual(callee.recv()[0], 68)
        b.send([CALL, 7, {}, "com.slow"])
        self.assert_error(b, CALL, 7, "wamp.error.limit_exceeded")
        callee.close()
        for _ in range(2):
            self.assertEqual(a.recv()[4], "wamp.error.canceled")
        a.close()
        b.close()


if __name__ == "__main__":
    unittest.main()
