"""Resumable sessions attacked as a hostile network peer would (issue #20, docs/resumption.md).

- Another listener is no way in: a session established through listener A is not resumable
  through listener B (other authentication, maybe another network), even with the right
  token and the same identity: B's HELLO gets a new session of its own, and the session on
  A is left alone and still resumes through A. (Before: B took it over.)
- A malformed resume request (HELLO.Details.resume not an object, session not an id, token
  not a string, received negative, a float, a string, past 2^53; resumable not a boolean)
  gets ABORT wamp.error.protocol_violation before anything is looked up, and the session it
  names is left alone. (Before: a float `received` with the right token ended the session,
  a string session id or a non-object `resume` silently gave a new session.)
- Guessing tokens counts against limits.max_auth_failures_per_ip and leaves the detached
  session alone.
- The logs of a realm's detached sessions are bounded together by
  resume.max_detached_bytes: beyond it the oldest detached sessions end (logged); the
  others resume with every message, once. (Before: only max_sessions x max_bytes bounded
  them; 200 detached sessions of one client held 217 MiB of the router's RSS.)
- A resumable session that never ACKs while it is flooded ends at max_bytes, cannot
  resume, and another subscriber of the same topic gets every event.
"""
# ctest-areas: resume auth limits

import os
import socket
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from rsraw import RS, RSClosed  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

HELLO, WELCOME, ABORT, ACK = 1, 2, 3, 7
PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT = 16, 17, 32, 33, 36
ROLES = {"subscriber": {}, "publisher": {}, "caller": {}, "callee": {}}
ANON = {"anonymous": {"type": "static", "role": "user"}}
MAX_BYTES, BUDGET = 65536, 262144
CONFIG = {
    "listeners": [{"port": 0, "auth": ANON}, {"port": 0, "auth": ANON}],
    "limits": {"max_auth_failures_per_ip": 0},
    "realms": [{"name": "realm1", "resume": {"window_s": 60, "max_bytes": MAX_BYTES,
                                              "max_detached_bytes": BUDGET}}],
}


class Attack(unittest.TestCase):
    config = CONFIG

    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=cls.config).start()
        cls.ports = [int(u.rsplit(":", 1)[1].strip("/")) for u in cls.r.urls
                     if u.startswith("rs:")]

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()
        cls.r.check_sanitizers()

    def conn(self, listener=0, source=None, **details):
        c = RS.__new__(RS)
        c.sock = socket.create_connection(("127.0.0.1", self.ports[listener]), timeout=10,
                                          source_address=(source, 0) if source else None)
        c.timeout, c.buf, c.ser = 10, b"", None
        c.handshake("json")
        d = {"roles": ROLES, "resumable": True}
        d.update(details)
        c.send([HELLO, "realm1", d])
        return c, c.recv()

    def detached(self, topic, source=None):
        """A resumable session subscribed to topic, its link dropped: (id, token, received)."""
        c, w = self.conn(source=source)
        self.assertEqual(w[0], WELCOME, w)
        c.send([SUBSCRIBE, 1, {}, topic])
        self.assertEqual(c.recv()[0], SUBSCRIBED)
        c.close()
        self.r.wait_log(r"detached session=%d " % w[1])
        return w[1], w[2]["resume-token"], 1

    def publish(self, topic, args, n=1):
        p, w = self.conn(resumable=False)
        for i in range(n):
            p.send([PUBLISH, i + 1, {}, topic, args])
        p.send([PUBLISH, n + 1, {"acknowledge": True}, topic + ".sync", []])
        self.assertEqual(p.recv(30)[0], PUBLISHED)   # everything before it was delivered
        p.close()

    def resumes(self, sid, token, received, listener=0, source=None, events=()):
        c, w = self.conn(listener, source, resume={"session": sid, "token": token,
                                                     "received": received})
        self.assertEqual(w[0], WELCOME, w)
        self.assertEqual(w[1], sid)
        self.assertTrue(w[2].get("resumed"))
        got = [c.recv()[4] for _ in events]
        self.assertEqual(got, list(events))
        return c

    def test_other_listener(self):
        sid, token, n = self.detached("com.lst")
        c, w = self.conn(1, resume={"session": sid, "token": token, "received": n})
        c.close()
        self.assertEqual(w[0], WELCOME, w)
        self.assertNotEqual(w[1], sid, "listener B took over a session of listener A")
        self.assertFalse(w[2].get("resumed"))
        self.publish("com.lst", ["kept"])
        self.resumes(sid, token, n, events=(["kept"],)).close()

    def test_malformed_resume(self):
        sid, token, n = self.detached("com.bad")
        ok = {"session": sid, "token": token, "received": n}
        bad = [{"resume": "x"}, {"resume": [sid, token, n]},
               {"resume": dict(ok, session=str(sid))}, {"resume": dict(ok, session=0)},
               {"resume": dict(ok, session=1.5)}, {"resume": dict(ok, token=5)},
               {"resume": dict(ok, received=-1)}, {"resume": dict(ok, received=0.5)},
               {"resume": dict(ok, received="1")}, {"resume": dict(ok, received=2 ** 60)},
               {"resume": dict(ok, received=None)}, {"resume": ok, "resumable": "yes"}]
        for details in bad:
            c, w = self.conn(**details)
            c.close()
            self.assertEqual(w[0], ABORT, "%r: %r" % (details, w))
            self.assertEqual(w[2], "wamp.error.protocol_violation", w)
        # none of it touched the session: it resumes with what it was sent meanwhile
        self.publish("com.bad", ["kept"])
        self.resumes(sid, token, n, events=(["kept"],)).close()

    def test_detached_budget(self):
        payload = "x" * 12000   # ~12 KB events: 5 per log fit in 64 KiB
        ids = [self.detached("com.b%d" % i) for i in range(8)]
        for i in range(8):   # 8 x 5 x 12 KB = 480 KB > the 256 KiB budget
            self.publish("com.b%d" % i, [payload], 5)
        self.r.wait_log(r"over resume.max_detached_bytes")
        # counted as such (wampd_sessions_detached_ended_total{reason="budget"})
        self.r.wait_log(r"detached session=\d+ ended \(the oldest over the realm's "
                        r"resume.max_detached_bytes\)")
        resumed = []
        for sid, token, n in ids:
            c, w = self.conn(resume={"session": sid, "token": token, "received": n})
            if w[2].get("resumed"):
                self.assertEqual([c.recv()[4] for _ in range(5)], [[payload]] * 5)
                resumed.append(sid)
            c.close()
        kept = [sid for sid, _, _ in ids][-len(resumed):] if resumed else []
        # the oldest ended, the newest were kept whole, and what was kept fits the budget
        self.assertEqual(resumed, kept)
        self.assertGreaterEqual(len(resumed), 3)
        self.assertLessEqual(len(resumed) * 5 * 12000, BUDGET)
        self.assertLess(len(resumed), 8)

    def test_never_acks(self):
        c, w = self.conn()
        c.send([SUBSCRIBE, 1, {}, "com.flood"])
        self.assertEqual(c.recv()[0], SUBSCRIBED)
        other, _ = self.conn(resumable=False)
        other.send([SUBSCRIBE, 1, {}, "com.flood"])
        self.assertEqual(other.recv()[0], SUBSCRIBED)
        self.publish("com.flood", ["y" * 1000], 100)   # 100 KB > 64 KiB, never ACKed
        self.r.wait_log(r"resume log over %d bytes .*ending session=%d" % (MAX_BYTES, w[1]))
        with self.assertRaises(RSClosed):
            while True:
                c.recv()
        for i in range(100):
            self.assertEqual(other.recv()[0], EVENT)
        other.close()
        x, w2 = self.conn(resume={"session": w[1], "token": w[2]["resume-token"],
                                  "received": 1})
        x.close()
        self.assertFalse(w2[2].get("resumed"), "a session over max_bytes resumed")


class Guessing(Attack):
    """Wrong tokens count as failed authentications of the address; the session is kept."""
    config = dict(CONFIG, limits={"max_auth_failures_per_ip": 5, "auth_failure_window": 60})

    def test_guessing(self):
        sid, token, n = self.detached("com.g", source="127.0.0.2")
        for i in range(5):
            c, w = self.conn(resume={"session": sid, "token": "%043d=" % i, "received": n})
            c.close()
            self.assertEqual(w[:1] + w[2:], [ABORT, "wamp.error.authentication_failed"])
        c, w = self.conn(resume={"session": sid, "token": token, "received": n})
        c.close()
        self.assertIn("too many failed authentications", w[1]["message"])
        # the owner, from its own address, gets its session and what it was sent
        self.publish_from("127.0.0.2", "com.g", ["kept"])
        self.resumes(sid, token, n, source="127.0.0.2", events=(["kept"],)).close()

    def publish_from(self, source, topic, args):
        p, w = self.conn(source=source, resumable=False)
        p.send([PUBLISH, 1, {"acknowledge": True}, topic, args])
        self.assertEqual(p.recv()[0], PUBLISHED)
        p.close()

    # the other cases run in Attack
    test_other_listener = test_malformed_resume = test_detached_budget = None
    test_never_acks = None


if __name__ == "__main__":
    unittest.main()
