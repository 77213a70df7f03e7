"""A shared registration keeps answering while one of its callees is detached (issue #20,
docs/resumption.md "Shared registrations").

Two resumable callees of a roundrobin registration over RawSocket; the link of one is cut
(the router holds it detached for its 60 s window). Before the dealer chose attached
callees first, every other call went to the detached one and waited in its replay log
until it resumed or the call failed: half the calls of a service with a healthy callee
took the whole window. Now every call is answered at once by the attached callee (each
read here has a 5 s deadline, far below the window), and the detached callee, once it
resumes, gets nothing kept for it and takes its turn again.
"""
# ctest-areas: resume dealer rawsocket

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from rsraw import RS  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

HELLO, WELCOME, ACK = 1, 2, 7
CALL, RESULT, REGISTER, REGISTERED, INVOCATION, YIELD = 48, 50, 64, 65, 68, 70
ROLES = {"caller": {}, "callee": {}}
ANON = {"anonymous": {"type": "static", "role": "user"}}
WINDOW_S = 60
DEADLINE = 5  # seconds: a call waiting for the detached callee would take WINDOW_S
CONFIG = {
    "listeners": [{"port": 0, "auth": ANON}],
    "realms": [{"name": "realm1", "resume": {"window_s": WINDOW_S}}],
}


class Peer:
    """A raw RawSocket (JSON) WAMP peer that counts what it receives after WELCOME, ACKs
    aside, as a resumable client must."""

    def __init__(self, port, **details):
        self.rs = RS("127.0.0.1", port, timeout=DEADLINE)
        self.rs.handshake("json")
        d = {"roles": ROLES}
        d.update(details)
        self.rs.send([HELLO, "realm1", d])
        self.welcome = self.rs.recv()
        self.received = 0

    def send(self, msg):
        self.rs.send(msg)

    def recv(self):
        while True:
            msg = self.rs.recv(DEADLINE)
            if msg[0] != ACK:
                self.received += 1
                return msg

    def close(self):
        self.rs.close()


class SharedCalleeDetached(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=CONFIG).start()
        cls.port = next(int(u.rsplit(":", 1)[1].strip("/")) for u in cls.r.urls
                        if u.startswith("rs:"))

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()
        cls.r.check_sanitizers()

    def peer(self, **details):
        p = Peer(self.port, **details)
        self.addCleanup(p.close)
        return p

    def callee(self):
        c = self.peer(resumable=True)
        self.assertEqual(c.welcome[0], WELCOME, c.welcome)
        self.assertTrue(c.welcome[2].get("resumable"))
        c.send([REGISTER, 1, {"invoke": "roundrobin"}, "com.shared"])
        self.assertEqual(c.recv()[0], REGISTERED)
        return c

    def invocations(self, callee, n):
        """callee receives n INVOCATIONs (each within the deadline) and answers them with
        their argument; returns the arguments."""
        got = []
        for _ in range(n):
            inv = callee.recv()
            self.assertEqual(inv[0], INVOCATION, inv)
            got.append(inv[4][0])
            callee.send([YIELD, inv[1], {}, [inv[4][0]]])
        return got

    def results(self, caller, reqs):
        got = {}
        for _ in reqs:
            res = caller.recv()
            self.assertEqual(res[0], RESULT, res)
            got[res[1]] = res[3][0]
        self.assertEqual(got, {r: r for r in reqs})

    def test_attached_callee_answers_while_other_detached(self):
        a, b = self.callee(), self.callee()
        caller = self.peer()
        self.assertEqual(caller.welcome[0], WELCOME)
        # both take their turn
        for req in (1, 2):
            caller.send([CALL, req, {}, "com.shared", [req]])
        self.assertEqual(self.invocations(a, 1) + self.invocations(b, 1), [1, 2])
        self.results(caller, [1, 2])

        # a's link is cut: the router holds its session for the window
        sid, token, received = a.welcome[1], a.welcome[2]["resume-token"], a.received
        a.close()
        self.r.wait_log(r"detached session=%d " % sid)

        # every call is answered at once by b; none waits for a
        calls = list(range(10, 20))
        for req in calls:
            caller.send([CALL, req, {}, "com.shared", [req]])
        self.assertEqual(sorted(self.invocations(b, len(calls))), calls)
        self.results(caller, calls)

        # a resumes: nothing was kept for it, and it takes its turn again
        a = self.peer(resumable=True,
                      resume={"session": sid, "token": token, "received": received})
        self.assertEqual(a.welcome[0], WELCOME, a.welcome)
        self.assertEqual(a.welcome[1], sid)
        self.assertTrue(a.welcome[2].get("resumed"))
        calls = list(range(20, 24))
        for req in calls:
            caller.send([CALL, req, {}, "com.shared", [req]])
        got_a, got_b = self.invocations(a, 2), self.invocations(b, 2)
        self.assertEqual(sorted(got_a + got_b), calls)
        self.assertTrue(all(x >= 20 for x in got_a), "a was given a call kept while detached")
        self.results(caller, calls)


if __name__ == "__main__":
    unittest.main()
