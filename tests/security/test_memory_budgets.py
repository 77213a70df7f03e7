"""Issue #17 finding 9: what the router keeps after a message is handled (testaments,
retained events, event history) is bounded in bytes, not only in count.

The attack: sessions store far more than they are allowed in large payloads -- testaments
(2 scopes x 64 per session), retained events on distinct topics, publications recorded in
an event history -- and the router's resident memory grows with it (on the code before the
fix: 4 sessions x 128 testaments x 1 MiB took 516 MiB, 300 retained 1 MiB events 300 MiB).

Here 4 sessions push 128 testaments of 256 KiB each (128 MiB), a publisher 200 retained
events of 256 KiB (50 MiB) and 200 publications of 256 KiB into a history (50 MiB), with
the budgets at 1 MiB per session (the default) and 2 MiB per realm. Asserted: exactly what
fits is accepted and then wamp.error.limit_exceeded comes back (ERROR for add_testament and
acknowledged retained publications; a refused publication reaches no subscriber); history
keeps its newest events within its budget; the router's RSS stays within a bound the old
code exceeded several times over; /metrics shows the bytes held and the refusals; other
sessions keep being served.

Driven over RawSocket (no client masking to pay for in Python). Under ASan the allocator's
quarantine (freed memory kept for use-after-free detection, 256 MiB by default) is made
small, or freed message buffers would count as growth.
"""
# ctest-areas: limits broker meta

import http.client
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

import promparse  # noqa: E402
from rsraw import RS  # noqa: E402
from wampd_proc import WampdProcess, rss_bytes  # noqa: E402

WELCOME, ERROR, PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT = 2, 8, 16, 17, 32, 33, 36
CALL, RESULT, REGISTER, REGISTERED, INVOCATION, YIELD = 48, 50, 64, 65, 68, 70
LIMIT = "wamp.error.limit_exceeded"

MIB = 1 << 20
BUDGET = 2 * MIB                      # retained and history, per realm
TESTAMENT_BUDGET = 1 * MIB            # limits.max_testament_bytes_per_session's default
BLOB = "x" * (256 * 1024)             # one large payload string
TICKET = "budget-admin"
# what the router may grow by while holding 4 x 1 MiB of testaments, 2 MiB retained and
# 2 MiB of history, with everything else freed; the code before the fix grew by > 200 MiB
RSS_GROWTH_BOUND = 48 * MIB

CONFIG = {
    "admin": {"port": 0, "ticket": TICKET},
    "listeners": [{"port": 0}],
    "realms": [{"name": "realm1", "max_retained_bytes": BUDGET, "max_history_bytes": BUDGET,
                "event_history": [{"uri": "com.hist", "match": "prefix", "limit": 1000}]}],
}


class MemoryBudgets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        asan = os.environ.get("ASAN_OPTIONS", "detect_leaks=1")
        cls.router = WampdProcess(config=CONFIG, env={
            "ASAN_OPTIONS": asan + ":quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
        }).start()
        cls.port = int(cls.router.url_of("rs").rsplit(":", 1)[1].strip("/"))
        cls.req = 1000
        # a witness session that must keep being served whatever the others do
        cls.witness = cls.session()
        cls.witness.send([REGISTER, 1, {}, "com.witness.echo"])
        assert cls.witness.recv()[0] == REGISTERED
        cls.baseline = rss_bytes(cls.router.proc.pid)

    @classmethod
    def tearDownClass(cls):
        cls.witness.close()
        cls.router.stop()

    @classmethod
    def session(cls):
        rs = RS("127.0.0.1", cls.port, timeout=20)
        assert rs.handshake("json")[1] & 0x0F == 1
        welcome = rs.hello()
        assert welcome[0] == WELCOME, welcome
        return rs

    @classmethod
    def next_req(cls):
        cls.req += 1
        return cls.req

    def assert_witness_served(self):
        w, req = self.witness, self.next_req()
        w.send([CALL, req, {}, "com.witness.echo", [req]])
        inv = w.recv()
        self.assertEqual(inv[0], INVOCATION, inv)
        w.send([YIELD, inv[1], {}, inv[4]])
        self.assertEqual(w.recv()[:4], [RESULT, req, {}, [req]])

    def assert_rss_bounded(self, what):
        growth = rss_bytes(self.router.proc.pid) - self.baseline
        sys.stderr.write("%s: RSS growth %.1f MiB\n" % (what, growth / MIB))
        self.assertLess(growth, RSS_GROWTH_BOUND,
                        "%s: the router's RSS grew by %.1f MiB" % (what, growth / MIB))

    def call(self, s, procedure, args, kwargs=None):
        req = self.next_req()
        s.send([CALL, req, {}, procedure, args] + ([kwargs] if kwargs is not None else []))
        reply = s.recv()
        self.assertEqual(reply[2] if reply[0] == ERROR else reply[1], req, reply)
        return reply

    def metrics(self):
        host, port = self.router.admin_url.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + TICKET})
            res = conn.getresponse()
            self.assertEqual(res.status, 200)
            return promparse.parse(res.read().decode())
        finally:
            conn.close()

    def store(self, fams, name, store):
        return fams[name].value(realm="realm1", store=store)

    # ------------------------------------------------------------------ the attacks
    def test_1_testaments(self):
        sessions = [self.session() for _ in range(4)]
        accepted = []
        for s in sessions:
            ok = 0
            for i in range(128):  # the count limit allows 64 per scope
                scope = "destroyed" if i % 2 else "detached"
                reply = self.call(s, "wamp.session.add_testament", ["com.gone", [BLOB, i], {}],
                                  {"scope": scope})
                if reply[0] == RESULT:
                    self.assertEqual(ok, i, "accepted after a refusal")
                    ok += 1
                else:
                    self.assertEqual(reply[0], ERROR, reply)
                    self.assertEqual(reply[4], LIMIT, reply)
            accepted.append(ok)
        # 3 x 256 KiB and their bookkeeping fit in 1 MiB, a 4th does not
        self.assertEqual(accepted, [3, 3, 3, 3])
        fams = self.metrics()
        held = self.store(fams, "wampd_store_bytes", "testaments")
        self.assertGreater(held, 4 * 3 * len(BLOB))
        self.assertLessEqual(held, 4 * TESTAMENT_BUDGET)
        self.assertEqual(self.store(fams, "wampd_store_refusals_total", "testaments"), 4 * 125)
        self.assert_rss_bounded("128 MiB of testaments")
        self.assert_witness_served()
        # flushing gives the budget back
        s = sessions[0]
        self.assertEqual(self.call(s, "wamp.session.flush_testaments", [], {"scope": "detached"})[3],
                         [2])
        self.assertEqual(self.call(s, "wamp.session.add_testament", ["com.gone", [BLOB]])[0],
                         RESULT)
        for s in sessions:
            s.close()

    def test_2_retained(self):
        pub, sub = self.session(), self.session()
        sub.send([SUBSCRIBE, 1, {"match": "prefix"}, "com.ret"])
        self.assertEqual(sub.recv()[0], SUBSCRIBED)
        accepted = []
        for i in range(200):
            req = self.next_req()
            pub.send([PUBLISH, req, {"retain": True, "acknowledge": True}, "com.ret.t%03d" % i,
                      [BLOB]])
            reply = pub.recv()
            self.assertEqual(reply[1] if reply[0] == PUBLISHED else reply[2], req, reply)
            if reply[0] == PUBLISHED:
                accepted.append(i)
            else:
                self.assertEqual(reply[:2], [ERROR, PUBLISH], reply)
                self.assertEqual(reply[4], LIMIT, reply)
        # 7 x 256 KiB fit in 2 MiB, an 8th does not: the first 7 topics only
        self.assertEqual(accepted, list(range(7)))
        # an unacknowledged one over the budget is refused alike (no ERROR: it was not asked)
        pub.send([PUBLISH, self.next_req(), {"retain": True}, "com.ret.unacked", [BLOB]])
        # replacing a retained event by one of the same size fits
        req = self.next_req()
        pub.send([PUBLISH, req, {"retain": True, "acknowledge": True}, "com.ret.t000",
                  [BLOB, 1]])
        self.assertEqual(pub.recv()[:2], [PUBLISHED, req])
        # the subscriber got exactly the accepted publications, in order, and no refused one
        got = []
        for _ in range(8):
            ev = sub.recv()
            self.assertEqual(ev[0], EVENT, ev)
            got.append((ev[3]["topic"], ev[4][1:]))
        self.assertEqual(got, [("com.ret.t%03d" % i, []) for i in range(7)] +
                         [("com.ret.t000", [1])])
        fams = self.metrics()
        held = self.store(fams, "wampd_store_bytes", "retained")
        self.assertGreater(held, 7 * len(BLOB))
        self.assertLessEqual(held, BUDGET)
        self.assertEqual(self.store(fams, "wampd_store_refusals_total", "retained"), 193 + 1)
        self.assertEqual(fams["wampd_publications_refused_total"].value(error=LIMIT), 193 + 1)
        # a late subscriber gets what was kept
        late = self.session()
        late.send([SUBSCRIBE, 1, {"match": "prefix", "get_retained": True}, "com.ret"])
        self.assertEqual(late.recv()[0], SUBSCRIBED)
        topics = sorted(late.recv()[3]["topic"] for _ in range(7))
        self.assertEqual(topics, ["com.ret.t%03d" % i for i in range(7)])
        self.assert_rss_bounded("50 MiB of retained events")
        self.assert_witness_served()
        for s in (pub, sub, late):
            s.close()

    def test_3_history(self):
        pub = self.session()
        for i in range(200):
            pub.send([PUBLISH, self.next_req(), {}, "com.hist.log", [BLOB, i]])
        # PUBLISH has no reply: this session's next call is handled after all of them
        sub_id = self.call(pub, "wamp.subscription.lookup", ["com.hist", {"match": "prefix"}])[3][0]
        events = self.call(pub, "wamp.subscription.get_events", [sub_id])[3][0]
        # the newest that fit in 2 MiB, the older ones evicted
        self.assertEqual([e["args"][1] for e in events], list(range(193, 200)))
        fams = self.metrics()
        held = self.store(fams, "wampd_store_bytes", "history")
        self.assertGreater(held, 7 * len(BLOB))
        self.assertLessEqual(held, BUDGET)
        self.assertEqual(self.store(fams, "wampd_store_evictions_total", "history"), 193)
        self.assert_rss_bounded("50 MiB of history")
        self.assert_witness_served()
        pub.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
