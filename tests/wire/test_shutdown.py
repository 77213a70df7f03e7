"""SIGTERM: every established session gets GOODBYE wamp.close.system_shutdown; after the
client's GOODBYE the connection closes; pending callers get ERROR; the process exits 0."""

import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS  # noqa: E402

GOODBYE, ERROR, CALL, REGISTER = 6, 8, 48, 64


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


if __name__ == "__main__":
    unittest.main()
