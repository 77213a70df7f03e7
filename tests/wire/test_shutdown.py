"""SIGTERM: every established session gets GOODBYE wamp.close.system_shutdown; after the
client's GOODBYE the connection closes; pending callers get ERROR; the process exits 0 —
also under load (sessions busy calling and publishing while the signal arrives), within 5 s."""

import os
import signal
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS  # noqa: E402

GOODBYE, ERROR, PUBLISH, EVENT, SUBSCRIBE = 6, 8, 16, 36, 32
CALL, RESULT, REGISTER, INVOCATION, YIELD = 48, 50, 64, 68, 70
SHUTDOWN = "wamp.close.system_shutdown"


class Shutdown(unittest.TestCase):
    def test_sigterm(self):
        r = WampdProcess().start()
        sessions = []
        for proto in ("wamp.2.json", "wamp.2.msgpack", "wamp.2.json"):
            ws = WS("127.0.0.1", r.port, r.path, protocols=(proto,))
            self.assertEqual(ws.hello()[0], 2)
            sessions.append(ws)
        callee, caller = sessions[0], sessions[1]
        callee.send([REGISTER, 1, {}, "com.hang"])
        callee.recv()
        caller.send([CALL, 5, {}, "com.hang"])
        self.assertEqual(callee.recv()[0], 68)
        idle = WS("127.0.0.1", r.port, r.path)  # connected, never said HELLO
        r.proc.send_signal(signal.SIGTERM)
        for ws in sessions:
            msgs = []
            while True:
                m = ws.recv(timeout=5)
                msgs.append(m)
                if m[0] == GOODBYE:
                    break
            self.assertEqual(msgs[-1][2], "wamp.close.system_shutdown")
            if ws is caller:  # its pending call was answered before the GOODBYE
                self.assertEqual(msgs[0][0], ERROR)
                self.assertEqual((msgs[0][2], msgs[0][4]), (5, "wamp.error.canceled"))
            ws.send([GOODBYE, {}, "wamp.close.goodbye_and_out"])
            self.assertIsNotNone(ws.expect_close(timeout=5))
        idle.expect_close(timeout=5)  # a connection without a session is just closed
        idle.close()
        self.assertEqual(r.stop(timeout=10), 0)


class Pump(threading.Thread):
    """One session busy until the router says GOODBYE: calls its own echo procedure (and
    answers the INVOCATION), or publishes to the subscribers, in a loop."""

    def __init__(self, port, path, proto, kind, n):
        threading.Thread.__init__(self, daemon=True)
        self.ws = WS("127.0.0.1", port, path, protocols=(proto,), timeout=10)
        assert self.ws.hello()[0] == 2
        self.kind, self.n, self.rounds, self.goodbye, self.error = kind, n, 0, None, None
        self.busy = threading.Event()
        if kind == "rpc":
            self.ws.send([REGISTER, 1, {}, "com.load.echo%d" % n])
            assert self.ws.recv()[0] == 65

    def run(self):
        req = 10
        try:
            while True:
                req += 1
                if self.kind == "rpc":
                    self.ws.send([CALL, req, {}, "com.load.echo%d" % self.n, [req, "x" * 64]])
                else:
                    self.ws.send([PUBLISH, req, {"acknowledge": True}, "com.load.news",
                                  [req, "y" * 64]])
                while True:
                    m = self.ws.recv()
                    if m[0] == INVOCATION:
                        self.ws.send([YIELD, m[1], {}, m[4]])
                    elif m[0] in (RESULT, 17):
                        break
                    elif m[0] == GOODBYE:
                        self.goodbye = m
                        self.ws.send([GOODBYE, {}, "wamp.close.goodbye_and_out"])
                        self.ws.expect_close(timeout=5)
                        return
                    elif m[0] == ERROR:  # a call cut short by the shutdown
                        break
                self.rounds += 1
                if self.rounds == 20:
                    self.busy.set()
        except Exception as e:  # reported by the test
            self.error = e
            self.busy.set()


class Reader(threading.Thread):
    """A subscriber reading events until GOODBYE."""

    def __init__(self, port, path, proto):
        threading.Thread.__init__(self, daemon=True)
        self.ws = WS("127.0.0.1", port, path, protocols=(proto,), timeout=10)
        assert self.ws.hello()[0] == 2
        self.ws.send([SUBSCRIBE, 1, {}, "com.load.news"])
        assert self.ws.recv()[0] == 33
        self.events, self.goodbye, self.error = 0, None, None

    def run(self):
        try:
            while True:
                m = self.ws.recv()
                if m[0] == EVENT:
                    self.events += 1
                elif m[0] == GOODBYE:
                    self.goodbye = m
                    self.ws.send([GOODBYE, {}, "wamp.close.goodbye_and_out"])
                    self.ws.expect_close(timeout=5)
                    return
        except Exception as e:
            self.error = e


class ShutdownUnderLoad(unittest.TestCase):
    def test_sigterm_under_load(self):
        r = WampdProcess().start()
        protos = ("wamp.2.json", "wamp.2.msgpack")
        readers = [Reader(r.port, r.path, protos[i % 2]) for i in range(20)]
        pumps = [Pump(r.port, r.path, protos[i % 2], "rpc" if i < 4 else "pub", i)
                 for i in range(6)]
        # callers with calls pending at a callee that never answers
        callee = WS("127.0.0.1", r.port, r.path, protocols=("wamp.2.json",))
        self.assertEqual(callee.hello()[0], 2)
        callee.send([REGISTER, 1, {}, "com.load.hang"])
        self.assertEqual(callee.recv()[0], 65)
        callers = []
        for i in range(5):
            c = WS("127.0.0.1", r.port, r.path, protocols=(protos[i % 2],))
            self.assertEqual(c.hello()[0], 2)
            for k in range(3):
                c.send([CALL, 100 + k, {}, "com.load.hang"])
                self.assertEqual(callee.recv()[0], INVOCATION)
            callers.append(c)
        for t in readers + pumps:
            t.start()
        for p in pumps:  # every pump is busy before the signal
            self.assertTrue(p.busy.wait(10), "pump %d never got going" % p.n)
            self.assertIsNone(p.error)
        t0 = time.monotonic()
        r.proc.send_signal(signal.SIGTERM)
        for c in callers:
            errors = []
            while True:
                m = c.recv(timeout=5)
                if m[0] == GOODBYE:
                    break
                errors.append(m)
            self.assertEqual(m[2], SHUTDOWN)
            self.assertEqual(sorted((e[0], e[2], e[4]) for e in errors),
                             [(ERROR, 100 + k, "wamp.error.canceled") for k in range(3)])
            c.send([GOODBYE, {}, "wamp.close.goodbye_and_out"])
            c.expect_close(timeout=5)
        m = callee.recv(timeout=5)
        self.assertEqual((m[0], m[2]), (GOODBYE, SHUTDOWN))
        callee.send([GOODBYE, {}, "wamp.close.goodbye_and_out"])
        for t in readers + pumps:
            t.join(10)
            self.assertFalse(t.is_alive())
            self.assertIsNone(t.error, t.error)
            self.assertEqual((t.goodbye[0], t.goodbye[2]), (GOODBYE, SHUTDOWN))
        self.assertGreater(sum(t.events for t in readers), 0)
        self.assertEqual(r.stop(timeout=10), 0)
        self.assertLess(time.monotonic() - t0, 5.0, "exit within 5 s of SIGTERM")


if __name__ == "__main__":
    unittest.main()
