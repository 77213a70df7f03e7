"""#17: the authorization matrix. Every action (call, register, publish, subscribe) x the
request's match policy (exact, prefix, wildcard; call and publish are exact only) x the kind
of the role's permission (exact, prefix, wildcard, none) x the authorizer (static roles, a
dynamic authorizer with its answers cached, and uncached), plus the meta procedures that act
on a URI (a testament: a publish; wamp.subscription.get_events: a subscribe with the
subscription's policy).

A request is allowed exactly when the permission covers everything the request can reach.
The expectation comes from the table COVERED_BY below, written by hand from the definitions
(not computed by the router's code), and the test asserts the router's actual answers:
SUBSCRIBED / REGISTERED / PUBLISHED / RESULT (the call reaches the callee) versus ERROR
wamp.error.not_authorized. The dynamic authorizer answers from the same table using the
match policy it is told (options.match), so a router that hid the policy or reused an answer
across policies fails; the cached router must not ask a second time, the uncached one must.

One router per authorizer kind; each permission kind is one role (and one session) with its
own namespace com.<kind>.*, so registrations and subscriptions of different cases never meet.
"""
# ctest-areas: authz meta

import threading
import unittest

from authzlib import (AuthzCase, Authorizer, config, perm, NOT_AUTHORIZED, ERROR, RESULT,
                      SUBSCRIBED, REGISTERED, PUBLISHED, INVOCATION, YIELD)
from wsraw import Closed

UNREGISTER, UNREGISTERED = 66, 67

KINDS = ("exact", "prefix", "wildcard", "none")

# The permission of kind K, on namespace com.K.: all four actions allowed.
PERMISSION = {"exact": ("a.b", "exact"), "prefix": ("a.", "prefix"),
              "wildcard": (".b", "wildcard")}

# The requests (policy, suffix after "com.K.") and the permission kinds covering each:
#   exact com.K.a.b   every URI it reaches (itself) is matched by all three permissions
#   prefix com.K.a.b  reaches com.K.a.bx, com.K.a.b.c: only the prefix com.K.a. matches all
#   prefix com.K.     reaches com.K.z: nothing covers it
#   wildcard com.K.a.b  no empty component: the one URI com.K.a.b
#   wildcard com.K.a.   reaches com.K.a.z: the prefix com.K.a. covers it, com.K..b does not
#   wildcard com.K..b   reaches com.K.z.b: only the wildcard com.K..b
COVERED_BY = {
    ("exact", "a.b"): {"exact", "prefix", "wildcard"},
    ("exact", "a.c"): {"prefix"},
    ("exact", "x.b"): {"wildcard"},
    ("prefix", "a.b"): {"prefix"},
    ("prefix", "a."): {"prefix"},
    ("prefix", ""): set(),
    ("wildcard", "a.b"): {"exact", "prefix", "wildcard"},
    ("wildcard", "a."): {"prefix"},
    ("wildcard", ".b"): {"wildcard"},
    ("wildcard", "."): set(),
}
EXACT_ONLY = ("call", "publish")
ACTIONS = ("subscribe", "register", "publish", "call")


def uri_of(kind, suffix):
    return "com.%s.%s" % (kind, suffix)


def expected(kind, match, suffix):
    return kind in COVERED_BY[(match, suffix)]


def decide_from_table(session, uri, action, options):
    """The dynamic authorizer: the same table, for the role's kind, with the policy the
    router says the request has (default exact, as an authorizer must assume)."""
    role = session.get("authrole", "")
    if uri.startswith("wamp."):
        return action == "call"
    kind = role[len("r_"):]
    prefix = "com.%s." % kind
    if kind not in KINDS or not uri.startswith(prefix):
        return False
    key = (options.get("match", "exact"), uri[len(prefix):])
    return key in COVERED_BY and kind in COVERED_BY[key]


class Callee(threading.Thread):
    """Registered on prefix com.: answers every INVOCATION with [procedure]."""

    def __init__(self, ws):
        threading.Thread.__init__(self, daemon=True)
        self.ws, self.stopping, self.failure = ws, threading.Event(), None
        self.procedures = []

    def run(self):
        while not self.stopping.is_set():
            try:
                inv = self.ws.recv(timeout=0.25)  # the timeout only notices stop()
            except TimeoutError:
                continue
            except (Closed, OSError) as e:
                self.failure = repr(e)
                return
            if inv[0] != INVOCATION:
                self.failure = repr(inv)
                return
            self.procedures.append(inv[3].get("procedure"))
            self.ws.send([YIELD, inv[1], {}, [inv[3].get("procedure")]])

    def stop(self):
        self.stopping.set()
        self.join(5)
        self.ws.close()


def matrix_config(dynamic, cache_ttl):
    roles = [{"name": "svc", "permissions": [perm("com.", "prefix", "register")]},
             {"name": "authorizer", "permissions": [perm("com.authz", "exact", "register")]}]
    for kind in KINDS:
        if dynamic:
            roles.append({"name": "r_" + kind, "authorizer": "com.authz"})
            continue
        perms = [perm("wamp.", "prefix", "call")]
        if kind in PERMISSION:
            suffix, match = PERMISSION[kind]
            perms.append(perm(uri_of(kind, suffix), match, *ACTIONS))
        roles.append({"name": "r_" + kind, "permissions": perms})
    history = [(uri_of(kind, suffix), match, 5)
               for kind in KINDS for (match, suffix) in COVERED_BY]
    principals = {"u_" + kind: "r_" + kind for kind in KINDS}
    principals.update({"callee": "svc", "authz": "authorizer"})
    return config(roles, principals, history=history, cache_ttl=cache_ttl)


class MatrixBase:
    """The matrix; mixed into one AuthzCase (one router) per authorizer kind."""
    dynamic = False
    cached = False

    def setUp(self):
        self.callee = self.login("callee")
        self.assertIsNone(self.error_of(self.register(self.callee, "com.", "prefix")))
        self.callee_thread = Callee(self.callee)
        self.callee_thread.start()
        self.authz = None
        if self.dynamic:
            ws = self.login("authz")
            self.assertIsNone(self.error_of(self.register(ws, "com.authz")))
            self.authz = Authorizer(ws, decide_from_table)
            self.authz.start()

    def tearDown(self):
        self.callee_thread.stop()
        self.assertIsNone(self.callee_thread.failure)
        if self.authz:
            self.authz.stop()
            self.assertIsNone(self.authz.failure)
        AuthzCase.tearDown(self)  # the witness still served

    def outcome(self, ws, action, match, uri):
        """True (allowed) or False (not_authorized), from the router's answer; anything
        else fails the test."""
        if action == "subscribe":
            reply = self.subscribe(ws, uri, match)
            ok = SUBSCRIBED
        elif action == "register":
            reply = self.register(ws, uri, match)
            ok = REGISTERED
            if reply[0] == REGISTERED:  # free it again (a second pass registers again)
                ws.send([UNREGISTER, self.req(ws), reply[2]])
                self.assertEqual(ws.recv()[0], UNREGISTERED)
        elif action == "publish":
            reply = self.publish(ws, uri, ["x"])
            ok = PUBLISHED
        else:
            reply = self.call(ws, uri, ["x"])
            ok = RESULT
            if reply[0] == RESULT:
                self.assertEqual(reply[3], [uri], reply)  # it reached the callee
        if reply[0] == ERROR:
            self.assertEqual(reply[4], NOT_AUTHORIZED, (action, match, uri, reply))
            return False
        self.assertEqual(reply[0], ok, (action, match, uri, reply))
        return True

    def run_matrix(self, sessions, sub_ids):
        """One pass over every case; returns the number of cases."""
        n = 0
        for kind in KINDS:
            ws = sessions[kind]
            for (match, suffix) in COVERED_BY:
                uri, want = uri_of(kind, suffix), expected(kind, match, suffix)
                for action in ACTIONS:
                    if action in EXACT_ONLY and match != "exact":
                        continue
                    got = self.outcome(ws, action, match, uri)
                    self.assertEqual(got, want, "%s %s %s by a %s permission" %
                                     (action, match, uri, kind))
                    n += 1
                # a testament is a later publish of the exact topic
                if match == "exact":
                    reply = self.call(ws, "wamp.session.add_testament", [uri, ["bye"], {}])
                    self.assertEqual(self.error_of(reply), None if want else NOT_AUTHORIZED,
                                     ("testament", uri, kind, reply))
                    n += 1
                # a subscription's history is for who may subscribe to its pattern
                reply = self.call(ws, "wamp.subscription.get_events",
                                  [sub_ids[(uri, match)]])
                self.assertEqual(self.error_of(reply), None if want else NOT_AUTHORIZED,
                                 ("get_events", match, uri, kind, reply))
                n += 1
            # testaments added above are not wanted when the session goes
            reply = self.call(ws, "wamp.session.flush_testaments")
            self.assertEqual(reply[0], RESULT, reply)
        return n

    def test_matrix(self):
        sessions = {kind: self.login("u_" + kind, ("wamp.2.json", "wamp.2.msgpack")[i % 2])
                    for i, kind in enumerate(KINDS)}
        sub_ids = {}
        # the history subscriptions' ids: wamp.subscription.lookup needs only a call
        # permission on wamp.*, which every static role has (the authorizer allows it too)
        looker = sessions["none"]
        for kind in KINDS:
            for (match, suffix) in COVERED_BY:
                uri = uri_of(kind, suffix)
                reply = self.call(looker, "wamp.subscription.lookup", [uri, {"match": match}])
                self.assertEqual(reply[0], RESULT, reply)
                self.assertIsInstance(reply[3][0], int, (uri, match, reply))
                sub_ids[(uri, match)] = reply[3][0]
        if self.authz:
            self.authz.take()
        cases = self.run_matrix(sessions, sub_ids)
        self.assertGreater(cases, 100)
        if self.authz:
            asked = self.authz.take()
            # the authorizer saw each request's own policy
            for uri, action, options, _ in asked:
                self.assertIn(options.get("match"), ("exact", "prefix", "wildcard"))
            pattern_questions = [q for q in asked if q[2]["match"] != "exact"]
            self.assertTrue(pattern_questions)
            # a second pass: the cached router asks nothing, the uncached one all again
            self.assertEqual(self.run_matrix(sessions, sub_ids), cases)
            again = self.authz.take()
            if self.cached:
                self.assertEqual(again, [])
            else:
                self.assertEqual(sorted((u, a, o["match"]) for u, a, o, _ in again),
                                 sorted((u, a, o["match"]) for u, a, o, _ in asked))
        for ws in sessions.values():
            ws.close()


class StaticMatrix(MatrixBase, AuthzCase):
    config = matrix_config(dynamic=False, cache_ttl=0)


class DynamicCachedMatrix(MatrixBase, AuthzCase):
    config = matrix_config(dynamic=True, cache_ttl=600000)
    dynamic = cached = True


class DynamicUncachedMatrix(MatrixBase, AuthzCase):
    config = matrix_config(dynamic=True, cache_ttl=0)
    dynamic = True


if __name__ == "__main__":
    unittest.main()
