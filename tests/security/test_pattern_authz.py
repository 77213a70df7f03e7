"""#17 finding 5: pattern subscriptions and registrations were authorized on the URI string
only. A role whose only permission is exact com.pub.news subscribed with match prefix to
com.pub.news and received com.pub.news.internal and com.pub.newsroom.salaries; a dynamic
authorizer was asked with options {} (it could not see the match policy) and its cached
exact grant answered the prefix request.

Now a pattern is allowed only by a permission covering everything it can reach (and no
more specific deny inside it), the authorizer gets options.match, and its answers are
cached per (action, match, uri). Each test drives the real router over raw frames and
checks what the refused subscription would have delivered reaches nobody.
"""
# ctest-areas: authz broker dealer

import unittest

from authzlib import (AuthzCase, config, perm, NOT_AUTHORIZED, EVENT)

ROLES = [
    {"name": "reader", "permissions": [
        perm("com.pub.news", "exact", "subscribe"),
        perm("com.app.", "prefix", "subscribe", "register", "call"),
        perm("com.app.secret", "exact")]},            # denied inside the prefix
    {"name": "pub", "permissions": [perm("", "prefix", "publish", "call")]},
    {"name": "authorizer", "permissions": [perm("com.authz", "exact", "register")]},
    {"name": "dyn", "authorizer": "com.authz"},
]


class StaticPatterns(AuthzCase):
    config = config(ROLES, {"reader": "reader", "pub": "pub"})

    def test_prefix_on_an_exact_grant_is_refused(self):
        reader, pub = self.login("reader"), self.login("pub", "wamp.2.msgpack")
        for topic, match in (("com.pub.news", "prefix"), ("com.pub.", "prefix"),
                             ("com.pub.", "wildcard"), ("com..news", "wildcard"),
                             ("com.pub.news.internal", "exact")):
            self.assertEqual(self.error_of(self.subscribe(reader, topic, match)), NOT_AUTHORIZED,
                             (topic, match))
        self.assertIsNone(self.error_of(self.subscribe(reader, "com.pub.news")))
        # what the refused prefix subscription would have received reaches nobody: the
        # first EVENT the reader gets is the one for com.pub.news, published last
        for topic in ("com.pub.news.internal", "com.pub.newsroom.salaries"):
            self.assertIsNone(self.error_of(self.publish(pub, topic, ["secret"])))
        self.assertIsNone(self.error_of(self.publish(pub, "com.pub.news", ["public"])))
        ev = reader.recv()
        self.assertEqual(ev[0], EVENT, ev)
        self.assertEqual(ev[4], ["public"], ev)
        reader.close()
        pub.close()

    def test_deny_inside_an_allowed_prefix(self):
        reader, pub = self.login("reader"), self.login("pub")
        for topic, match in (("com.app.", "prefix"), ("com.app.sec", "prefix"),
                             ("com.app.", "wildcard"), ("com..secret", "wildcard")):
            self.assertEqual(self.error_of(self.subscribe(reader, topic, match)), NOT_AUTHORIZED,
                             (topic, match))
            self.assertEqual(self.error_of(self.register(reader, topic, match)), NOT_AUTHORIZED,
                             (topic, match))
        self.assertIsNone(self.error_of(self.subscribe(reader, "com.app.pub.", "prefix")))
        self.assertIsNone(self.error_of(self.publish(pub, "com.app.secret", ["salaries"])))
        self.assertIsNone(self.error_of(self.publish(pub, "com.app.pub.x", ["ok"])))
        ev = reader.recv()
        self.assertEqual(ev[4], ["ok"], ev)
        # a registration that would receive calls to com.app.secret is refused likewise;
        # one that cannot reach it is fine
        reg = self.register(reader, "com.app.pub.", "prefix")
        self.assertIsNone(self.error_of(reg))
        reader.close()
        pub.close()


class DynamicPatterns(AuthzCase):
    """The authorizer below grants exactly what a careful one would: subscribe to
    com.pub.news, exact only. Before the fix it could not tell (options were {}) and its
    cached exact grant was reused for the prefix request."""
    config = config(ROLES, {"authz": "authorizer", "dyn": "dyn"}, cache_ttl=60000)

    def setUp(self):
        def decide(session, uri, action, options):
            return uri == "com.pub.news" and options.get("match", "exact") == "exact"

        self.start_authorizer(decide)

    def test_cached_exact_grant_is_not_reused_for_a_pattern(self):
        dyn = self.login("dyn")
        self.assertIsNone(self.error_of(self.subscribe(dyn, "com.pub.news")))
        q = self.authz.take()
        self.assertEqual([(u, a, o.get("match")) for u, a, o, _ in q],
                         [("com.pub.news", "subscribe", "exact")])
        self.assertEqual(q[0][3]["session"], dyn.session_id)
        for match in ("prefix", "wildcard"):
            self.assertEqual(self.error_of(self.subscribe(dyn, "com.pub.news", match)),
                             NOT_AUTHORIZED, match)
            self.assertEqual([(u, a, o.get("match")) for u, a, o, _ in self.authz.take()],
                             [("com.pub.news", "subscribe", match)])
        # each answer is cached for its own policy: asked no more
        self.assertEqual(self.error_of(self.subscribe(dyn, "com.pub.news", "prefix")),
                         NOT_AUTHORIZED)
        self.assertIsNone(self.error_of(self.subscribe(dyn, "com.pub.news")))
        self.assertEqual(self.authz.take(), [])
        # registrations too: the authorizer sees the policy (and the request's options)
        reg = self.register(dyn, "com.pub.", "prefix", invoke="roundrobin")
        self.assertEqual(self.error_of(reg), NOT_AUTHORIZED)
        (u, a, o, _), = self.authz.take()
        self.assertEqual((u, a, o.get("match"), o.get("invoke")),
                         ("com.pub.", "register", "prefix", "roundrobin"))
        dyn.close()


if __name__ == "__main__":
    unittest.main()
