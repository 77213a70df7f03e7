"""#17 (b): wamp.subscription.get_events returned a subscription's event history to any
session allowed to call the meta procedure, whatever it may subscribe to. Now the caller
must be allowed to subscribe to the subscription's topic with its match policy, else
wamp.error.not_authorized (static roles and the dynamic authorizer alike).
"""
# ctest-areas: authz meta

import unittest

from authzlib import (AuthzCase, Authorizer, config, perm, NOT_AUTHORIZED, RESULT)

ROLES = [
    {"name": "user", "permissions": [
        perm("wamp.subscription.", "prefix", "call"),
        perm("com.app.", "prefix", "subscribe"),
        perm("com.app.secret", "exact")]},
    {"name": "admin", "permissions": [perm("", "prefix", "call", "publish", "subscribe",
                                           "register")]},
    {"name": "authorizer", "permissions": [perm("com.authz", "exact", "register")]},
    {"name": "dyn", "authorizer": "com.authz"},
]
HISTORY = [("com.app.secret", "exact", 10), ("com.app.x", "exact", 10),
           ("com.app.", "prefix", 10)]


class GetEvents(AuthzCase):
    config = config(ROLES, {"user": "user", "admin": "admin", "authz": "authorizer",
                            "dyn": "dyn"}, history=HISTORY, cache_ttl=0)

    def setUp(self):
        self.admin = self.login("admin")
        self.ids = {}
        for uri, match, _ in HISTORY:
            reply = self.call(self.admin, "wamp.subscription.lookup", [uri, {"match": match}])
            self.assertEqual(reply[0], RESULT, reply)
            self.ids[uri] = reply[3][0]
        for topic, payload in (("com.app.secret", "salaries"), ("com.app.x", "news")):
            self.assertIsNone(self.error_of(self.publish(self.admin, topic, [payload])))

    def tearDown(self):
        self.admin.close()
        AuthzCase.tearDown(self)

    def events(self, ws, uri):
        return self.call(ws, "wamp.subscription.get_events", [self.ids[uri]])

    def test_static_role(self):
        user = self.login("user")
        reply = self.events(user, "com.app.x")
        self.assertEqual(reply[0], RESULT, reply)
        # (each test publishes once more: the history is the class's router's)
        self.assertEqual({e["args"][0] for e in reply[3][0]}, {"news"})
        for uri in ("com.app.secret", "com.app."):  # the prefix reaches com.app.secret
            self.assertEqual(self.error_of(self.events(user, uri)), NOT_AUTHORIZED, uri)
        reply = self.events(self.admin, "com.app.")
        self.assertEqual({e["args"][0] for e in reply[3][0]}, {"news", "salaries"})
        user.close()

    def test_dynamic_role(self):
        authz_ws = self.login("authz")
        self.assertIsNone(self.error_of(self.register(authz_ws, "com.authz")))
        authz = Authorizer(authz_ws, lambda s, uri, action, o: (
            action == "call" or (action == "subscribe" and uri == "com.app.x"
                                 and o.get("match") == "exact")))
        authz.start()
        try:
            dyn = self.login("dyn")
            self.assertEqual(self.events(dyn, "com.app.x")[0], RESULT)
            self.assertEqual([(u, a, o.get("match")) for u, a, o, _ in authz.take()],
                             [("wamp.subscription.get_events", "call", "exact"),
                              ("com.app.x", "subscribe", "exact")])
            self.assertEqual(self.error_of(self.events(dyn, "com.app.")), NOT_AUTHORIZED)
            self.assertEqual([(u, a, o.get("match")) for u, a, o, _ in authz.take()],
                             [("wamp.subscription.get_events", "call", "exact"),
                              ("com.app.", "subscribe", "prefix")])
            dyn.close()
        finally:
            authz.stop()
        self.assertIsNone(authz.failure)


if __name__ == "__main__":
    unittest.main()
