"""Issue #21: with the redis event store, every node of a cluster reads the same history and
the same retained event, and they survive the restart of any wampd node.

Three nodes share a private Redis (tests/lib/cluster_proc.py) and a realm whose store is
redis and durable. Node A publishes acknowledged events and a retained one; node C reads
the history (wamp.subscription.get_events: answered by C from Redis, not merged from the
nodes' memories) and gets the retained event. A and B are killed with SIGKILL and started
again: the history and the retained event are intact on each, and what B publishes after
its restart follows in the same history on C. An SSE stream on C resumes from an event
published on A. With Redis gone, an acknowledged publication gets ERROR
wampd.error.store_failed.
"""

import unittest

from storelib import Client, ERROR, EVENT, sse_events
from cluster_proc import Cluster

REALM = {"name": "realm1", "store": {"type": "redis", "durable": True},
         "event_history": [{"uri": "com.hist.", "match": "prefix", "limit": 500}]}


class SharedHistory(Cluster):
    def config(self, i, port=0):
        cfg = Cluster.config(self, i, port)
        cfg["realms"] = [REALM]
        cfg["listeners"][0]["http"] = {"/sse": {"type": "sse", "realm": "realm1",
                                                "heartbeat": 0}}
        return cfg


class RedisStore(unittest.TestCase):
    def test_every_node_reads_the_same_past(self):
        with SharedHistory(3, ttl_ms=1500) as c:
            a = Client(c.nodes[0])
            acked = [p for p, err in a.publish_many("com.hist.x", 100)]
            self.assertNotIn(None, acked)
            retained = a.publish("com.state", ["kept"], retain=True)
            self.assertEqual(retained[0], 17, retained)
            a.close()

            def check(node, n, what):
                cl = Client(node)
                events = cl.history("com.hist.")
                self.assertEqual([e["publication"] for e in events], acked[:n], what)
                self.assertEqual(cl.subscribe("com.state", get_retained=True)[0], 33)
                ev = cl.next_event()
                self.assertEqual((ev[0], ev[2], ev[4]), (EVENT, retained[2], ["kept"]), what)
                cl.close()

            check(c.nodes[2], 100, "node C, published on A")
            got, raw = sse_events(c.nodes[2], "topic=com.hist.x", last_event_id=acked[97],
                                  want=2)
            self.assertEqual([i for i, _ in got], acked[98:], raw)

            # SIGKILL A and B, start them again
            for i in (0, 1):
                c.kill_node(i)
            for i in (0, 1):
                c.nodes[i] = c.start_node(i)
            for i in range(3):
                check(c.nodes[i], 100, "node %d after A and B restarted" % i)

            b = Client(c.nodes[1])
            more = [p for p, err in b.publish_many("com.hist.y", 5)]
            self.assertNotIn(None, more)
            b.close()
            acked += more
            check(c.nodes[2], 105, "node C, published on B after its restart")

            # Redis gone: an acknowledged publication to keep gets ERROR, never a silent loss
            b = Client(c.nodes[1])
            c.redis.kill()
            answer = b.publish("com.hist.z", ["lost?"])
            self.assertEqual(answer[0], ERROR, answer)
            self.assertEqual(answer[4], "wampd.error.store_failed", answer)
            self.assertIn("event store (redis)", answer[5][0])
            c.nodes[1].wait_log(r"store: realm=realm1 store=redis: a history event not stored")
            b.close()
            c.redis.start()  # the nodes reconnect; the cluster stops cleanly


if __name__ == "__main__":
    unittest.main()
