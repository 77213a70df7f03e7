"""#17 (a): the wamp. URI space is the router's. An exact registration of wamp.x was refused,
but a prefix registration "wam" or "wamp" or a wildcard ".session.nope" was accepted and then
received the calls (and arguments) meant for wamp.* procedures the router does not define.
Now every registration pattern that can reach a wamp.* URI is wamp.error.invalid_uri, for
every role (here: one that may register anything, and a realm without roles).
"""
# ctest-areas: dealer

import unittest

from authzlib import AuthzCase, config, perm, INVALID_URI, ERROR, INVOCATION

ROLES = [{"name": "svc", "permissions": [perm("", "prefix", "call", "register", "publish",
                                               "subscribe")]}]

REFUSED = [("wamp.x", "exact"), ("wamp.", "prefix"), ("wamp", "prefix"), ("wam", "prefix"),
           ("w", "prefix"), ("wamp.session.", "prefix"), (".session.nope", "wildcard"),
           ("wamp..", "wildcard"), ("..", "wildcard"), (".nope", "wildcard"),
           ("wamp.", "wildcard")]
FINE = [("wamp", "exact"), ("wampx", "prefix"), ("com.wamp.", "prefix"),
        ("wampx.", "wildcard"), ("x.wamp", "wildcard"), ("com..", "wildcard")]


class ReservedChecks:
    def check(self, attacker, caller):
        for uri, match in REFUSED:
            self.assertEqual(self.error_of(self.register(attacker, uri, match)), INVALID_URI,
                             (uri, match))
        for uri, match in FINE:
            self.assertIsNone(self.error_of(self.register(attacker, uri, match)), (uri, match))
        # calls to wamp.* procedures the router lacks reach no one
        for proc in ("wamp.session.nope", "wamp.nope", "wamp.registration.nope.x"):
            reply = self.call(caller, proc, ["secret-argument"])
            self.assertEqual((reply[0], reply[4]), (ERROR, "wamp.error.no_such_procedure"))
        # the attacker got no INVOCATION: the next message it receives answers this call
        reply = self.call(attacker, "wamp.session.count")
        self.assertNotEqual(reply[0], INVOCATION, reply)


class Reserved(ReservedChecks, AuthzCase):
    config = config(ROLES, {"svc": "svc", "caller": "svc"})

    def test_with_roles(self):
        attacker, caller = self.login("svc"), self.login("caller", "wamp.2.msgpack")
        self.check(attacker, caller)
        attacker.close()
        caller.close()


class ReservedWithoutRoles(ReservedChecks, AuthzCase):
    config = None  # the embedded default: everyone may do anything

    def test_without_roles(self):
        attacker, caller = self.session(), self.session("wamp.2.cbor")
        attacker.next_req = caller.next_req = 1000
        self.check(attacker, caller)
        attacker.close()
        caller.close()


if __name__ == "__main__":
    unittest.main()
