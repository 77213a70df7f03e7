"""The Redis backplane's boundary (SECURITY.md): a Redis with a password.

A node with the right password (in the URL) joins the cluster and carries events to a node
that joined the same way; a node with a wrong password or none is refused by Redis, says so
in its log (without the password) and keeps serving its local clients. The password never
appears in any node's log.
"""
# ctest-areas: cluster

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from cluster_proc import RedisProcess  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS  # noqa: E402

HELLO, WELCOME, SUBSCRIBE, SUBSCRIBED, PUBLISH, EVENT = 1, 2, 32, 33, 16, 36
PASSWORD = "rp-7c1e9a%40x"  # %-encoded in the URL: the password is "rp-7c1e9a@x"


def node(url, node_id):
    return WampdProcess(config={
        "listeners": [{"port": 0}], "realms": [{"name": "realm1"}],
        "backplane": {"redis": url, "node_id": node_id, "heartbeat_ttl": 1500}}).start()


def session(r):
    ws = WS("127.0.0.1", r.port, path=r.path)
    assert ws.hello()[0] == WELCOME
    return ws


class RedisAuth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = RedisProcess(password="rp-7c1e9a@x").start()

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()

    def url(self, userinfo):
        return "redis://%s127.0.0.1:%d/0" % (userinfo, self.redis.port)

    def test_right_password_joins(self):
        a = node(self.url(":%s@" % PASSWORD), "auth-a")
        b = node(self.url("default:%s@" % PASSWORD), "auth-b")  # Redis 6 ACL form
        try:
            a.wait_log("joined the cluster", timeout=15)
            b.wait_log("joined the cluster", timeout=15)
            sub = session(b)
            sub.send([SUBSCRIBE, 1, {}, "com.auth.t"])
            self.assertEqual(sub.recv()[0], SUBSCRIBED)
            # the subscription is announced through Redis: publish until it arrives
            pub = session(a)
            got = None
            for i in range(200):
                pub.send([PUBLISH, 10 + i, {}, "com.auth.t", [i]])
                try:
                    got = sub.recv(timeout=0.05)
                    break
                except Exception:
                    continue
            self.assertIsNotNone(got)
            self.assertEqual(got[0], EVENT)
            sub.close()
            pub.close()
        finally:
            a.stop()
            b.stop()
        for r in (a, b):
            self.assertNotIn("rp-7c1e9a", r.stderr())

    def test_wrong_or_no_password_refused(self):
        for userinfo, log in ((":wrong@", "refused AUTH"), ("", "NOAUTH"),
                              ("default:%s-x@" % PASSWORD, "refused AUTH")):
            with self.subTest(userinfo=userinfo):
                r = node(self.url(userinfo), "auth-x")
                try:
                    r.wait_log(log, timeout=15)
                    ws = session(r)  # local traffic is still served
                    ws.close()
                finally:
                    r.stop()
                self.assertNotIn("joined the cluster", r.stderr())
                self.assertNotIn("rp-7c1e9a", r.stderr())
                self.assertNotIn("wrong", r.stderr())

    def test_malformed_userinfo_refused_at_start(self):
        for userinfo in ("nopassword@", "user:@", ":%zz@"):
            with self.subTest(userinfo=userinfo):
                with self.assertRaises(Exception) as e:
                    node(self.url(userinfo), "auth-y")
                self.assertIn("backplane.redis", str(e.exception))
                self.assertNotIn("rp-7c1e9a", str(e.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
