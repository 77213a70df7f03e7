"""Session lifecycle on the wire: WELCOME contents, GOODBYE and a new HELLO on the same
connection, refused HELLOs, fragmented messages, uint64 ids, request errors."""

import unittest

from wirecase import (ABORT, CALL, ERROR, GOODBYE, INVOCATION, PUBLISH, PUBLISHED, REGISTER,
                      REGISTERED, RESULT, SUBSCRIBE, SUBSCRIBED, UNREGISTER, UNSUBSCRIBE,
                      WELCOME, YIELD, WireCase)


class Lifecycle(WireCase):
    def test_welcome_details(self):
        for proto in ("wamp.2.json", "wamp.2.msgpack"):
            ws = self.open(proto)
            w = ws.hello()
            self.assertEqual(w[0], WELCOME)
            self.assertTrue(1 <= w[1] <= 2 ** 53)
            d = w[2]
            self.assertEqual(d["realm"], "realm1")
            self.assertEqual(d["authrole"], "anonymous")
            self.assertEqual(d["authmethod"], "anonymous")
            self.assertIn("features", d["roles"]["broker"])
            self.assertIn("features", d["roles"]["dealer"])
            self.assertTrue(d["roles"]["broker"]["features"]["publisher_exclusion"])
            ws.close()

    def test_goodbye_then_new_session(self):
        ws = self.session()
        ws.send([GOODBYE, {}, "wamp.close.close_realm"])
        self.assertEqual(ws.recv(), [GOODBYE, {}, "wamp.close.goodbye_and_out"])
        w = ws.hello()
        self.assertEqual(w[0], WELCOME)
        ws.close()

    def test_unknown_realm(self):
        ws = self.open()
        ws.send([1, "no.such.realm", {}])
        self.assert_abort(ws, "wamp.error.no_such_realm", 1000)

    def test_invalid_realm_uri(self):
        ws = self.open()
        ws.send([1, "bad realm", {}])
        self.assert_abort(ws, "wamp.error.invalid_uri", 1000)

    def test_only_ticket_offered(self):
        ws = self.open()
        ws.send([1, "realm1", {"authmethods": ["ticket"], "authid": "joe"}])
        self.assert_abort(ws, "wamp.error.no_matching_auth_method", 1000)

    def test_fragmented_hello(self):
        ws = self.open()
        text = b'[1, "realm1", {"roles": {"caller": {}}}]'
        ws.send_frame(1, text[:5], fin=False)
        ws.send_frame(0, text[5:15], fin=False)
        ws.send_frame(0, text[15:], fin=True)
        self.assertEqual(ws.recv()[0], WELCOME)
        ws.close()

    def test_ping_between_fragments(self):
        ws = self.open()
        text = b'[1, "realm1", {}]'
        ws.send_frame(1, text[:4], fin=False)
        ws.send_frame(9, b"hi")  # control frames may interleave
        ws.send_frame(0, text[4:], fin=True)
        op, _, payload = ws.recv_frame()
        self.assertEqual((op, payload), (10, b"hi"))
        self.assertEqual(ws.recv()[0], WELCOME)
        ws.close()

    def test_uint64_request_ids_msgpack(self):
        ws = self.session("wamp.2.msgpack")
        big = 2 ** 40 + 7
        ws.send([SUBSCRIBE, big, {}, "com.big"])
        msg = ws.recv()
        self.assertEqual(msg[0], SUBSCRIBED)
        self.assertEqual(msg[1], big)
        ws.close()


class RequestErrors(WireCase):
    def test_errors_keep_the_session(self):
        for proto in ("wamp.2.json", "wamp.2.msgpack"):
            with self.subTest(proto):
                ws = self.session(proto)
                other = self.session(proto)
                for uri in ("a..b", "a b", "a#b", ".a", "a."):
                    ws.send([SUBSCRIBE, 10, {}, uri])
                    self.assert_error(ws, SUBSCRIBE, 10, "wamp.error.invalid_uri")
                    ws.send([CALL, 11, {}, uri])
                    self.assert_error(ws, CALL, 11, "wamp.error.invalid_uri")
                    ws.send([REGISTER, 12, {}, uri])
                    self.assert_error(ws, REGISTER, 12, "wamp.error.invalid_uri")
                    ws.send([PUBLISH, 13, {"acknowledge": True}, uri])
                    self.assert_error(ws, PUBLISH, 13, "wamp.error.invalid_uri")
                ws.send([REGISTER, 20, {}, "wamp.mine"])
                self.assert_error(ws, REGISTER, 20, "wamp.error.invalid_uri")
                ws.send([PUBLISH, 21, {"acknowledge": True}, "wamp.mine"])
                self.assert_error(ws, PUBLISH, 21, "wamp.error.invalid_uri")
                ws.send([REGISTER, 22, {}, "com.twice." + proto])
                self.assertEqual(ws.recv()[0], REGISTERED)
                other.send([REGISTER, 23, {}, "com.twice." + proto])
                self.assert_error(other, REGISTER, 23, "wamp.error.procedure_already_exists")
                ws.send([CALL, 24, {}, "com.nobody"])
                msg = self.assert_error(ws, CALL, 24, "wamp.error.no_such_procedure")
                self.assertIsInstance(msg[5][0], str)  # a readable message
                ws.send([UNREGISTER, 25, 999999])
                self.assert_error(ws, UNREGISTER, 25, "wamp.error.no_such_registration")
                ws.send([UNSUBSCRIBE, 26, 999999])
                self.assert_error(ws, UNSUBSCRIBE, 26, "wamp.error.no_such_subscription")
                # an unacknowledged PUBLISH gets no ERROR: the next message is the PUBLISHED
                ws.send([PUBLISH, 27, {}, "a..b"])
                ws.send([PUBLISH, 28, {"acknowledge": True}, "com.ok"])
                msg = ws.recv()
                self.assertEqual((msg[0], msg[1]), (PUBLISHED, 28))
                ws.close()
                other.close()

    def test_unregister_of_another_sessions_registration(self):
        a = self.session()
        b = self.session()
        a.send([REGISTER, 1, {}, "com.owned"])
        reg = a.recv()
        self.assertEqual(reg[0], REGISTERED)
        b.send([UNREGISTER, 2, reg[2]])
        self.assert_error(b, UNREGISTER, 2, "wamp.error.no_such_registration")
        a.close()
        b.close()

    def test_yield_for_someone_elses_invocation(self):
        callee = self.session()
        intruder = self.session()
        caller = self.session()
        callee.send([REGISTER, 1, {}, "com.mine"])
        self.assertEqual(callee.recv()[0], REGISTERED)
        caller.send([CALL, 2, {}, "com.mine"])
        inv = callee.recv()
        self.assertEqual(inv[0], INVOCATION)
        # the intruder never got an INVOCATION with that id: protocol violation for it
        intruder.send([YIELD, inv[1] + 1000, {}, ["forged"]])
        self.assert_abort(intruder)
        callee.send([YIELD, inv[1], {}, ["real"]])
        res = caller.recv()
        self.assertEqual(res[0], RESULT)
        self.assertEqual(res[3], ["real"])
        callee.close()
        caller.close()

    def test_messages_after_goodbye_are_a_new_session_or_violation(self):
        ws = self.session()
        ws.send([GOODBYE, {}, "wamp.close.close_realm"])
        self.assertEqual(ws.recv()[0], GOODBYE)
        ws.send([CALL, 1, {}, "com.p"])  # no session any more
        self.assert_abort(ws)


class TrustLevels(WireCase):
    """call_trustlevels: the trust level of the caller's permission (config `trustlevel`)
    reaches the callee in INVOCATION.Details; calls under a permission without one carry
    none, and the caller never sees it."""
    config = {
        "listeners": [{"port": 0, "auth": {"anonymous": {"type": "static", "role": "app"}}}],
        "realms": [{"name": "realm1", "roles": [{"name": "app", "permissions": [
            {"uri": "com.", "match": "prefix", "trustlevel": 0,
             "allow": {"call": True, "register": True, "publish": True, "subscribe": True}},
            {"uri": "com.trusted.", "match": "prefix", "trustlevel": 3,
             "allow": {"call": True, "register": True}},
            {"uri": "org.", "match": "prefix",
             "allow": {"call": True, "register": True}}]}]}]}

    def test_invocation_carries_the_trust_level(self):
        callee, caller = self.session(), self.session("wamp.2.msgpack")
        for i, proc in enumerate(("com.trusted.op", "com.plain.op", "org.untrusted.op")):
            callee.send([REGISTER, i + 1, {}, proc])
            self.assertEqual(callee.recv()[0], REGISTERED)
        for i, (proc, level) in enumerate((("com.trusted.op", 3), ("com.plain.op", 0),
                                           ("org.untrusted.op", None))):
            caller.send([CALL, 10 + i, {}, proc, [i]])
            inv = callee.recv()
            self.assertEqual(inv[0], INVOCATION, inv)
            self.assertEqual(inv[3].get("trustlevel"), level, inv)
            callee.send([YIELD, inv[1], {}, [i]])
            res = caller.recv()
            self.assertEqual(res[:2], [RESULT, 10 + i])
            self.assertNotIn("trustlevel", res[2])
        callee.close()
        caller.close()

    def test_welcome_announces_it(self):
        ws = self.open()
        welcome = ws.hello()
        self.assertTrue(welcome[2]["roles"]["dealer"]["features"]["call_trustlevels"])
        ws.close()


if __name__ == "__main__":
    unittest.main()
