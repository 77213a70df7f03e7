"""Issue #21: the lmdb event store keeps what was acknowledged across a SIGKILL.

A publisher sends acknowledged publications back to back (they share loop iterations, so
several go into one lmdb transaction) and a retained event on a realm whose store is lmdb
and durable: PUBLISHED comes only once the batch holding the event was committed. wampd is
killed with SIGKILL right after the last PUBLISHED and started again on the same directory:
every acknowledged publication is in the history (wamp.subscription.get_events, in order),
the retained event is delivered to a new subscriber, and an SSE stream on one exact topic
resumes from Last-Event-ID out of the prefix history that covers it (before #21 only a
stream whose (topic, match) was itself a history could).

A store that cannot keep an event (its map is full) answers the acknowledged publisher
with ERROR wamp.error.limit_exceeded, logs it and counts it in wampd_store_failures_total;
the router keeps serving.
"""

import os
import shutil
import signal
import tempfile
import unittest

from storelib import Client, ERROR, EVENT, RESULT, metric, metrics, sse_events
from wampd_proc import WampdProcess

TICKET = "store-admin"


def config(path, **store):
    return {
        "admin": {"port": 0, "ticket": TICKET},
        "listeners": [{"port": 0, "http": {"/sse": {"type": "sse", "realm": "realm1",
                                                     "heartbeat": 0}}}],
        "realms": [{"name": "realm1",
                    "store": dict({"type": "lmdb", "path": path, "durable": True}, **store),
                    "event_history": [{"uri": "com.hist.", "match": "prefix",
                                       "limit": 1000}]}],
    }


class LmdbPersistence(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wampd-lmdb-")
        self.path = os.path.join(self.dir, "realm1")
        self.router = None

    def tearDown(self):
        if self.router:
            self.router.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, **store):
        self.router = WampdProcess(config=config(self.path, **store)).start()
        return self.router

    def test_kill9_keeps_what_was_acknowledged(self):
        router = self.start()
        pub = Client(router)
        a = pub.publish_many("com.hist.a", 150)
        b = pub.publish_many("com.hist.b", 50)
        retained = pub.publish("com.state", ["kept"], retain=True)
        self.assertEqual(retained[0], 17, retained)
        acked = [p for p, err in a + b]
        self.assertNotIn(None, acked, [err for _, err in a + b if err])
        # SIGKILL: no shutdown, no flush; whatever was acknowledged must be on disk
        router.proc.send_signal(signal.SIGKILL)
        router.proc.wait()
        router.kill()

        router = self.start()
        router.wait_log(r"history prefix com.hist. holds 200 event\(s\)")
        c = Client(router)
        events = c.history("com.hist.")
        self.assertEqual([e["publication"] for e in events], acked)
        self.assertEqual([e["args"][0] for e in events[:3]], [0, 1, 2])
        self.assertEqual(events[149]["topic"], "com.hist.a")
        self.assertEqual(events[150]["topic"], "com.hist.b")
        # the newest 5 of one topic, newest first
        last = c.history("com.hist.", limit=5, reverse=True, topic="com.hist.a")
        self.assertEqual([e["publication"] for e in last], acked[145:150][::-1])
        # the retained event, to a new subscriber
        self.assertEqual(c.subscribe("com.state", get_retained=True)[0], 33)
        ev = c.next_event()
        self.assertEqual((ev[0], ev[2], ev[3].get("retained"), ev[4]),
                         (EVENT, retained[2], True, ["kept"]))
        # SSE on the exact topic com.hist.b resumes out of the prefix history after a restart
        got, raw = sse_events(router, "topic=com.hist.b", last_event_id=acked[150 + 46],
                              want=3)
        self.assertEqual([i for i, _ in got], acked[150 + 47:], raw)
        self.assertEqual({d["topic"] for _, d in got}, {"com.hist.b"})
        # an id the stream never sent (another topic's, or one the history never held): said
        # so, nothing replayed
        for other in (acked[148], 12345):
            got, raw = sse_events(router, "topic=com.hist.b", last_event_id=other, want=1,
                                  timeout=1)
            self.assertEqual(got, [])
            self.assertIn(b"does not reach back to Last-Event-ID", raw)
        c.close()
        pub.close()

    def test_full_store_is_an_error_to_the_publisher(self):
        router = self.start(max_size=1 << 20)  # a 1 MiB map; 64 KiB events fill it
        pub = Client(router)
        blob = "x" * (64 * 1024)
        answers = [pub.publish("com.hist.big", [blob]) for _ in range(40)]
        errors = [a for a in answers if a[0] == ERROR]
        self.assertTrue(errors, "the map never filled up")
        first = answers.index(errors[0])
        self.assertTrue(first > 0, "the first events fit")
        self.assertEqual(errors[0][4], "wamp.error.limit_exceeded", errors[0])
        self.assertIn("event store (lmdb)", errors[0][5][0])
        router.wait_log(r"store: realm=realm1 store=lmdb: a history event not stored: "
                        r"MDB_MAP_FULL")
        text = metrics(router, TICKET)
        self.assertGreaterEqual(metric(text, "wampd_store_failures_total", realm="realm1",
                                       store="history"), 1)
        self.assertEqual(metric(text, "wampd_store_failures_total", realm="realm1",
                                store="retained"), 0)
        # what was acknowledged is there; the router serves on
        acked = [a[2] for a in answers[:first]]
        other = Client(router)
        self.assertEqual(other.call("wamp.session.count")[0], RESULT)
        events = other.history("com.hist.")
        self.assertEqual([e["publication"] for e in events][:first], acked)
        other.close()
        pub.close()


if __name__ == "__main__":
    unittest.main()
