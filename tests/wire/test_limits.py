"""Limits on the wire: message size (single frame and fragmented), hello timeout,
per-session table limits, with a small configuration."""

import time
import unittest

from wirecase import (ABORT, CALL, REGISTER, REGISTERED, SUBSCRIBE, SUBSCRIBED, WELCOME,
                      WireCase)


class Limits(WireCase):
    config = {
        "realms": [{"name": "realm1"}],
        "limits": {"max_message_size": 4096, "hello_timeout": 1,
                   "max_subscriptions_per_session": 50, "max_pending_calls_per_session": 3},
    }

    def test_oversize_single_frame(self):
        ws = self.session()
        ws.send_text('[16, 1, {}, "com.t", ["%s"]]' % ("x" * 5000))
        self.assert_abort(ws, code=1009)

    def test_oversize_fragmented(self):
        ws = self.session()
        ws.send_frame(1, b'[16, 1, {}, "com.t", ["', fin=False)
        for _ in range(3):
            ws.send_frame(0, b"y" * 2000, fin=False)
        ws.send_frame(0, b'"]]', fin=True)
        self.assert_abort(ws, code=1009)

    def test_oversize_msgpack(self):
        ws = self.session("wamp.2.msgpack")
        ws.send([16, 1, {}, "com.t", [b"z" * 5000]])
        self.assert_abort(ws, code=1009)

    def test_just_under_the_limit(self):
        ws = self.session()
        text = '[16, 1, {"acknowledge": true}, "com.t", ["%s"]]'
        pad = 4096 - len(text % "")
        ws.send_text(text % ("w" * pad))
        self.assertEqual(ws.recv()[0], 17)
        ws.close()

    def test_hello_timeout(self):
        ws = self.open()
        start = time.monotonic()
        code = ws.expect_close(timeout=5)
        self.assertLess(time.monotonic() - start, 4)
        self.assertEqual(code, 1008)  # policy: no HELLO in time
        ws.close()
        self.router.wait_log(r"no HELLO within 1 s", timeout=5)

    def test_subscription_limit(self):
        ws = self.session()
        for i in range(50):
            ws.send([SUBSCRIBE, i + 1, {}, "com.t%d" % i])
            self.assertEqual(ws.recv()[0], SUBSCRIBED)
        ws.send([SUBSCRIBE, 99, {}, "com.one.more"])
        self.assert_error(ws, SUBSCRIBE, 99, "wamp.error.limit_exceeded")
        ws.close()

    def test_pending_call_limit(self):
        callee = self.session()
        callee.send([REGISTER, 1, {}, "com.hang"])
        self.assertEqual(callee.recv()[0], REGISTERED)
        caller = self.session()
        for i in range(3):
            caller.send([CALL, i + 1, {}, "com.hang"])
        caller.send([CALL, 9, {}, "com.hang"])
        self.assert_error(caller, CALL, 9, "wamp.error.limit_exceeded")
        callee.close()
        # the callee's departure cancels the three pending calls
        for _ in range(3):
            self.assertEqual(caller.recv()[4], "wamp.error.canceled")
        caller.close()


class HelloDeadline(WireCase):
    """limits.hello_timeout runs from the WebSocket open to WELCOME: an unanswered
    challenge gets ABORT wamp.error.authentication_failed (logged with the peer); a WELCOME
    given after a dynamic authenticator's answer is not cut short by it."""
    config = {
        "listeners": [{"port": 0, "auth": {
            "anonymous": {"type": "static", "role": "svc"},
            # a realm without roles: only the pinned authrole may register the authenticator
            "ticket": {"type": "dynamic", "authenticator": "com.test.authenticate",
                       "authenticator_role": "svc"}}}],
        "realms": [{"name": "realm1"}],
        "limits": {"hello_timeout": 1},
    }

    def test_expired_challenge(self):
        ws = self.open()
        start = time.monotonic()
        ws.send([1, "realm1", {"authmethods": ["ticket"], "authid": "joe"}])
        self.assertEqual(ws.recv()[0], 4)  # CHALLENGE
        msg = ws.recv(timeout=5)
        self.assertEqual(msg[0], ABORT, msg)
        self.assertEqual(msg[2], "wamp.error.authentication_failed")
        self.assertIn("hello_timeout", msg[1]["message"])
        self.assertLess(time.monotonic() - start, 4)
        ws.expect_close(timeout=5)
        ws.close()
        self.router.wait_log(r"authentication failed .*authid=joe .*peer=127\.0\.0\.1", timeout=5)

    def test_dynamic_welcome_outlives_the_deadline(self):
        svc = self.session()  # anonymous: the authenticator's session
        svc.send([REGISTER, 1, {}, "com.test.authenticate"])
        self.assertEqual(svc.recv()[0], REGISTERED)
        ws = self.open()
        start = time.monotonic()
        ws.send([1, "realm1", {"authmethods": ["ticket"], "authid": "amy"}])
        self.assertEqual(ws.recv()[0], 4)
        ws.send([5, "amys-ticket", {}])
        inv = svc.recv()
        self.assertEqual(inv[0], 68, inv)
        svc.send([70, inv[1], {}, [{"role": "svc"}]])
        self.assertEqual(ws.recv()[0], WELCOME)
        # keep using the session until well past the HELLO deadline
        req = 10
        while time.monotonic() - start < 2.0:
            req += 1
            ws.send([CALL, req, {}, "wamp.session.count"])
            self.assertEqual(ws.recv()[:2], [50, req])
        ws.close()
        svc.close()


def fd_limits(pid):
    """(soft, hard) RLIMIT_NOFILE of a process, from /proc."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), (None if hard == "unlimited" else int(hard))
    raise AssertionError("no open-files line")


class FdLimit(WireCase):
    """The descriptor limit follows limits.max_sessions (libwebsockets' per-connection cost
    grows with it): max_sessions + 1/8 + 256, within the hard limit."""
    config = {"realms": [{"name": "realm1"}], "limits": {"max_sessions": 80}}

    def test_soft_limit_sized_to_max_sessions(self):
        soft, hard = fd_limits(self.router.proc.pid)
        want = 80 + 80 // 8 + 256
        self.assertEqual(soft, want if hard is None or want <= hard else hard)
        # and the router serves within it
        ws = self.session()
        ws.close()


if __name__ == "__main__":
    unittest.main()
