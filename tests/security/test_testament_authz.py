"""#17 finding 4: testaments skipped authorization. wamp.session.add_testament checked only
that the topic was a URI, so a role refused publish on a topic published to it through a
testament once it left, forged meta events (wamp.session.on_leave carrying another
session's id) and planted retained events through publish_options.retain.

Now the testament is authorized as a PUBLISH by its session when it is added (static roles
and the dynamic authorizer), wamp.* topics are wamp.error.invalid_uri (as for PUBLISH), and
only the publish options that mean something then are accepted. The test drives the attack
over raw frames and checks, from a watcher subscribed to everything, that the attacker's
departure delivers nothing but the genuine on_leave.
"""
# ctest-areas: authz meta

import unittest

from authzlib import (AuthzCase, config, perm, NOT_AUTHORIZED, INVALID_URI,
                      INVALID_ARGUMENT, EVENT, RESULT)

ROLES = [
    {"name": "user", "permissions": [
        perm("wamp.session.", "prefix", "call"),
        perm("com.app.", "prefix", "publish", "subscribe")]},
    {"name": "admin", "permissions": [perm("", "prefix", "call", "register", "publish",
                                           "subscribe")]},
    {"name": "authorizer", "permissions": [perm("com.authz", "exact", "register")]},
    {"name": "dyn", "authorizer": "com.authz"},
]


def add_testament(case, ws, topic, args=("bye",), **kwargs):
    return case.call(ws, "wamp.session.add_testament", [topic, list(args), {}], kwargs)


class StaticTestaments(AuthzCase):
    config = config(ROLES, {"mallory": "user", "watcher": "admin", "victim": "admin"})

    def test_refused_testaments_never_publish(self):
        watcher, victim = self.login("watcher"), self.login("victim")
        for topic, match in (("com.", "prefix"), ("wamp.session.on_leave", "exact")):
            self.assertIsNone(self.error_of(self.subscribe(watcher, topic, match)))
        mallory = self.login("mallory", "wamp.2.msgpack")
        attacks = [
            # a topic the role may not publish to
            (("com.other.alert", ["pwned"]), {}, NOT_AUTHORIZED),
            # a retained event there
            (("com.other.alert", ["planted"]), {"publish_options": {"retain": True}},
             NOT_AUTHORIZED),
            # a forged meta event about another session
            (("wamp.session.on_leave", [victim.session_id, "victim", "admin"]), {}, INVALID_URI),
            (("wamp.session.on_join", [{"session": victim.session_id}]), {}, INVALID_URI),
            # publish options that make no sense for a testament
            (("com.app.x", ["x"]), {"publish_options": {"ppt_scheme": "x_custom"}},
             INVALID_ARGUMENT),
            (("com.app.x", ["x"]), {"publish_options": {"forward_for": [{"session": 1}]}},
             INVALID_ARGUMENT),
            (("com.app.x", ["x"]), {"publish_options": {"retain": "yes"}}, INVALID_ARGUMENT),
        ]
        for (topic, args), kwargs, uri in attacks:
            reply = add_testament(self, mallory, topic, args, **kwargs)
            self.assertEqual(self.error_of(reply), uri, (topic, kwargs, reply))
        # an allowed one still works, with the options that make sense kept
        reply = add_testament(self, mallory, "com.app.gone", ["bye"],
                              publish_options={"exclude": [victim.session_id],
                                               "acknowledge": True})
        self.assertEqual(reply[0], RESULT, reply)
        mallory_id = mallory.session_id
        mallory.close()
        # the watcher gets the allowed testament, then the genuine on_leave, nothing else
        ev = watcher.recv()
        self.assertEqual(ev[0], EVENT, ev)
        self.assertEqual((ev[3].get("topic"), ev[4]), ("com.app.gone", ["bye"]), ev)
        ev = watcher.recv()
        self.assertEqual(ev[0], EVENT, ev)
        self.assertEqual(ev[4][0], mallory_id, ev)
        # nothing planted: no retained event on the refused topic
        late = self.login("watcher")
        self.assertIsNone(self.error_of(self.subscribe(late, "com.other.alert",
                                                       get_retained=True)))
        self.assertIsNone(self.error_of(self.publish(victim, "com.other.alert", ["marker"])))
        ev = late.recv()
        self.assertEqual(ev[4], ["marker"], ev)  # the first event it gets: no retained one
        for ws in (watcher, victim, late):
            ws.close()

    def test_welcome_announces_testaments(self):
        ws = self.login("watcher")
        self.assertTrue(ws.welcome[2]["roles"]["dealer"]["features"]["testament_meta_api"])
        ws.close()


class DynamicTestaments(AuthzCase):
    config = config(ROLES, {"authz": "authorizer", "dyn": "dyn", "watcher": "admin"},
                    cache_ttl=0)

    def setUp(self):
        def decide(session, uri, action, options):
            if action == "call":
                return uri.startswith("wamp.session.")
            return action == "publish" and uri.startswith("com.app.")

        self.start_authorizer(decide)

    def test_authorizer_decides_the_testament(self):
        watcher = self.login("watcher")
        self.assertIsNone(self.error_of(self.subscribe(watcher, "com.", "prefix")))
        dyn = self.login("dyn", details={"roles": {"caller": {"features": {
            "progressive_call_invocations": True}}, "publisher": {}, "subscriber": {}}})
        reply = add_testament(self, dyn, "com.other.alert", ["pwned"],
                              publish_options={"retain": True})
        self.assertEqual(self.error_of(reply), NOT_AUTHORIZED, reply)
        asked = [(u, a) for u, a, o, _ in self.authz.take()]
        self.assertEqual(asked, [("wamp.session.add_testament", "call"),
                                 ("com.other.alert", "publish")])
        reply = add_testament(self, dyn, "com.app.gone", ["bye"])
        self.assertEqual(reply[0], RESULT, reply)
        asked = self.authz.take()
        self.assertEqual([(u, a, o.get("match")) for u, a, o, _ in asked],
                         [("wamp.session.add_testament", "call", "exact"),
                          ("com.app.gone", "publish", "exact")])
        dyn.close()
        ev = watcher.recv()
        self.assertEqual((ev[0], ev[3].get("topic"), ev[4]), (EVENT, "com.app.gone", ["bye"]))
        # the refused one never comes: the next event is a marker published now
        marker = self.login("watcher")
        self.assertIsNone(self.error_of(self.publish(marker, "com.marker", ["m"])))
        self.assertEqual(watcher.recv()[4], ["m"])
        watcher.close()
        marker.close()


if __name__ == "__main__":
    unittest.main()
