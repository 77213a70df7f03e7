"""Issue #17: NaN and +-Infinity (MessagePack and CBOR floats) and JSON literals that
overflow a double (1e999) in a payload.

JSON cannot carry them (and jansson cannot hold them), so before the fix such a payload
reached the subscribers/callees of the publisher's own serializer and silently not those of
another: a JSON subscriber missed events a MessagePack one got, an unacknowledged publisher
never learnt it. Now a payload with a non-finite number is refused, whatever its serializer,
before it is routed: PUBLISH with acknowledge and CALL get ERROR wamp.error.invalid_argument,
an unacknowledged PUBLISH is dropped (logged, counted in
wampd_publications_refused_total{error="wamp.error.invalid_argument"}), a YIELD (or a
callee's ERROR) makes the call fail for its caller with that ERROR. No subscriber of any
serializer receives such an event; every session involved stays open and is served.
"""
# ctest-areas: codec

import http.client
import math
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import promparse  # noqa: E402
from wirecase import (WireCase, ERROR, PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT,  # noqa: E402
                      CALL, RESULT, REGISTER, REGISTERED, INVOCATION, YIELD)

INVALID = "wamp.error.invalid_argument"
TICKET = "nonfinite-admin"
NAN, INF = float("nan"), float("inf")


class NonFinite(WireCase):
    config = {"admin": {"port": 0, "ticket": TICKET}, "listeners": [{"port": 0}],
              "realms": [{"name": "realm1"}]}

    # two subscribers of each serializer, each alone on its own subscription to com.nf.t
    # (exact, prefix, wildcard): the router encodes an EVENT once per subscription and
    # serializer, so a serializer that cannot carry the payload cannot hide another's delivery
    SUBSCRIPTIONS = (("wamp.2.json", "exact", "com.nf.t"), ("wamp.2.json", "prefix", "com"),
                     ("wamp.2.msgpack", "prefix", "com.nf"), ("wamp.2.msgpack", "wildcard", "com..t"),
                     ("wamp.2.cbor", "prefix", "com.nf.t"), ("wamp.2.cbor", "wildcard", "com.nf."))

    def setUp(self):
        self.subs = []
        for proto, match, topic in self.SUBSCRIPTIONS:
            ws = self.session(proto)
            ws.send([SUBSCRIBE, 1, {"match": match}, topic])
            self.assertEqual(ws.recv()[0], SUBSCRIBED)
            self.subs.append(ws)

    def tearDown(self):
        for ws in self.subs:
            ws.close()
        super().tearDown()

    def refused_publications(self):
        host, port = self.router.admin_url.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + TICKET})
            fams = promparse.parse(conn.getresponse().read().decode())
        finally:
            conn.close()
        return fams["wampd_publications_refused_total"].value(error=INVALID)

    def assert_subscribers_get_only(self, marker):
        """Each subscriber's next EVENT is the finite publication `marker` (nothing before)."""
        for ws in self.subs:
            ev = ws.recv()
            self.assertEqual(ev[0], EVENT, ev)
            self.assertEqual(ev[4], [marker], "%s got %r first" % (ws.protocol, ev))

    def publish_finite(self, pub, marker):
        pub.send([PUBLISH, 99, {"acknowledge": True, "exclude_me": False}, "com.nf.t", [marker]])
        self.assertEqual(pub.recv()[0], PUBLISHED)

    def test_msgpack_nan_acknowledged(self):
        pub = self.session("wamp.2.msgpack")
        for i, value in enumerate((NAN, INF, -INF)):
            pub.send([PUBLISH, 10 + i, {"acknowledge": True}, "com.nf.t", [1, {"v": [value]}]])
            self.assert_error(pub, PUBLISH, 10 + i, INVALID)
        # the same session keeps publishing; every subscriber gets only the finite one
        self.publish_finite(pub, "after")
        self.assert_subscribers_get_only("after")
        pub.close()

    def test_unacknowledged_dropped_and_counted(self):
        before = self.refused_publications()
        pub = self.session("wamp.2.msgpack")
        pub.send([PUBLISH, 20, {}, "com.nf.t", [], {"x": NAN}])
        pub.send([PUBLISH, 21, {"retain": True}, "com.nf.t", [INF]])
        self.publish_finite(pub, "next")  # no ERROR came before this PUBLISHED
        self.assert_subscribers_get_only("next")
        self.assertEqual(self.refused_publications(), before + 2)
        # nothing was retained either
        late = self.session("wamp.2.msgpack")
        late.send([SUBSCRIBE, 1, {"get_retained": True}, "com.nf.t"])
        self.assertEqual(late.recv()[0], SUBSCRIBED)
        self.publish_finite(pub, "later")
        self.assertEqual(late.recv()[4], ["later"])
        late.close()
        self.assert_subscribers_get_only("later")
        pub.close()

    def test_cbor_half_float_nan(self):
        pub = self.session("wamp.2.cbor")
        pub.send([PUBLISH, 30, {"acknowledge": True}, "com.nf.t", [NAN]])
        self.assert_error(pub, PUBLISH, 30, INVALID)
        self.publish_finite(pub, "cbor")
        self.assert_subscribers_get_only("cbor")
        pub.close()

    def test_json_overflowing_literal(self):
        pub = self.session("wamp.2.json")
        pub.send_text('[16, 40, {"acknowledge": true}, "com.nf.t", [1e999]]')
        self.assert_error(pub, PUBLISH, 40, INVALID)
        pub.send_text('[16, 41, {"acknowledge": true}, "com.nf.t", [], {"v": -2.5e308}]')
        self.assert_error(pub, PUBLISH, 41, INVALID)
        self.publish_finite(pub, "json")  # 1.7976931348623157e308 and such stay fine
        self.assert_subscribers_get_only("json")
        pub.send_text('[16, 42, {"acknowledge": true}, "com.nf.t", [1.7976931348623157e308]]')
        self.assertEqual(pub.recv()[0], PUBLISHED)
        for ws in self.subs:
            self.assertEqual(ws.recv()[4], [1.7976931348623157e308])
        pub.close()

    def test_call_and_yield(self):
        callee = self.session("wamp.2.msgpack")
        callee.send([REGISTER, 1, {}, "com.nf.proc"])
        self.assertEqual(callee.recv()[0], REGISTERED)
        caller = self.session("wamp.2.msgpack")
        # a CALL with NaN: ERROR, the callee is not invoked
        caller.send([CALL, 50, {}, "com.nf.proc", [NAN]])
        self.assert_error(caller, CALL, 50, INVALID)
        # a YIELD with Infinity: the call fails for the caller, the callee is not told off
        caller.send([CALL, 51, {}, "com.nf.proc", [1.5]])
        inv = callee.recv()
        self.assertEqual(inv[0], INVOCATION, inv)
        self.assertEqual(inv[4], [1.5])
        callee.send([YIELD, inv[1], {}, [INF]])
        err = self.assert_error(caller, CALL, 51, INVALID)
        self.assertIn("non-finite", err[5][0])
        # a callee's ERROR with NaN in its arguments: the same
        caller.send([CALL, 52, {}, "com.nf.proc"])
        inv = callee.recv()
        callee.send([ERROR, INVOCATION, inv[1], {}, "com.app.error", [NAN]])
        self.assert_error(caller, CALL, 52, INVALID)
        # both keep working
        caller.send([CALL, 53, {}, "com.nf.proc", [2.5]])
        inv = callee.recv()
        self.assertEqual(inv[0], INVOCATION, inv)
        callee.send([YIELD, inv[1], {}, [math.pi]])
        res = caller.recv()
        self.assertEqual(res[:2], [RESULT, 53])
        self.assertEqual(res[3], [math.pi])
        caller.close()
        callee.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
