"""#17 (also seen): the router's own authenticator/authorizer procedures cannot be taken over.

The router calls a dynamic authenticator (it sees every ticket and decides who logs in as
whom) and a dynamic role's authorizer by URI. Before the fix any session allowed to REGISTER
that URI - in a realm without roles: anyone - could register it while the real service was
down (or with a prefix/wildcard pattern covering it) and receive those calls.

Now a REGISTER whose procedure or pattern covers such a URI is refused with ERROR
wamp.error.not_authorized unless
  - the config pins a role ("authenticator_role" / "authorizer_role") and the session has
    it (an explicit register permission of another role is not enough), or
  - nothing is pinned and the session's static role has an explicit register permission
    on the URI (a realm without roles grants nothing here).
"""
# ctest-areas: auth authz dealer

import base64
import hashlib
import hmac
import unittest

from wampd_proc import WampdProcess
from wirecase import (ABORT, AUTHENTICATE, CALL, CHALLENGE, ERROR, HELLO, INVOCATION, REGISTER,
                      REGISTERED, RESULT, UNREGISTER, WELCOME, YIELD, WS)

ALL = {"call": True, "register": True, "publish": True, "subscribe": True}
USERS = {"authsvc": "authenticator", "authzsvc": "authorizer", "mallory": "backend"}

PINNED = {
    "listeners": [{"auth": {
        "wampcra": {"type": "static", "users": {
            name: {"secret": "pw-" + name, "role": role} for name, role in USERS.items()}},
        "ticket": {"type": "dynamic", "authenticator": "com.auth.authenticate",
                   "authenticator_role": "authenticator"},
        "anonymous": {"type": "static", "role": "dyn"}}}],
    "realms": [{"name": "realm1", "roles": [
        {"name": "authenticator", "permissions": [
            {"uri": "com.auth.authenticate", "match": "exact", "allow": {"register": True}}]},
        {"name": "authorizer", "permissions": [
            {"uri": "com.auth.authorize", "match": "exact", "allow": {"register": True}}]},
        # mallory's role may register anything: the pin still keeps it out
        {"name": "backend", "permissions": [{"uri": "", "match": "prefix", "allow": ALL}]},
        {"name": "user", "permissions": [{"uri": "com.app.", "match": "prefix",
                                          "allow": {"call": True}}]},
        {"name": "dyn", "authorizer": "com.auth.authorize", "authorizer_role": "authorizer"}]}],
}

UNPINNED_OPEN = {  # no role pinned, a realm without roles (everything allowed to everyone)
    "listeners": [{"auth": {
        "ticket": {"type": "dynamic", "authenticator": "com.auth.authenticate"},
        "anonymous": {"type": "static", "role": "anyone"}}}],
    "realms": [{"name": "realm1"}],
}

UNPINNED_ROLES = {  # no role pinned: an explicit register permission is needed
    "listeners": [{"auth": {
        "wampcra": {"type": "static", "users": {
            "authsvc": {"secret": "pw-authsvc", "role": "authenticator"},
            "mallory": {"secret": "pw-mallory", "role": "callers"}}},
        "ticket": {"type": "dynamic", "authenticator": "com.auth.authenticate"}}}],
    "realms": [{"name": "realm1", "roles": [
        {"name": "authenticator", "permissions": [
            {"uri": "com.auth.authenticate", "match": "exact", "allow": {"register": True}}]},
        {"name": "callers", "permissions": [
            {"uri": "com.auth.", "match": "prefix", "allow": {"call": True}}]},
        {"name": "user", "permissions": []}]}],
}


def wampcra(router, authid):
    ws = WS("127.0.0.1", router.port, router.path)
    ws.send([HELLO, "realm1", {"authmethods": ["wampcra"], "authid": authid}])
    ch = ws.recv()
    assert ch[0] == CHALLENGE, ch
    sig = hmac.new(("pw-" + authid).encode(), ch[2]["challenge"].encode(), hashlib.sha256)
    ws.send([AUTHENTICATE, base64.b64encode(sig.digest()).decode(), {}])
    welcome = ws.recv()
    assert welcome[0] == WELCOME, welcome
    return ws


def anonymous(router):
    ws = WS("127.0.0.1", router.port, router.path)
    welcome = ws.hello()
    assert welcome[0] == WELCOME, welcome
    return ws


class Pinning(unittest.TestCase):
    def register(self, ws, req, uri, match=None):
        ws.send([REGISTER, req, {"match": match} if match else {}, uri])
        return ws.recv()

    def assert_refused(self, ws, req, uri, match=None):
        msg = self.register(ws, req, uri, match)
        self.assertEqual(msg[:3] + msg[4:5], [ERROR, REGISTER, req, "wamp.error.not_authorized"],
                         (uri, match, msg))

    def assert_registered(self, ws, req, uri, match=None):
        msg = self.register(ws, req, uri, match)
        self.assertEqual(msg[:2], [REGISTERED, req], (uri, match, msg))
        return msg[2]

    def ticket_hello(self, router, authid="joe"):
        ws = WS("127.0.0.1", router.port, router.path)
        ws.send([HELLO, "realm1", {"authmethods": ["ticket"], "authid": authid}])
        self.assertEqual(ws.recv()[0], CHALLENGE)
        ws.send([AUTHENTICATE, "t-" + authid, {}])
        return ws

    def test_pinned_roles(self):
        with WampdProcess(config=PINNED) as r:
            mallory = wampcra(r, "mallory")
            # the authenticator is not up: mallory tries to take its place, exactly and by
            # patterns that would receive the router's calls
            self.assert_refused(mallory, 1, "com.auth.authenticate")
            self.assert_refused(mallory, 2, "com.auth.", "prefix")
            self.assert_refused(mallory, 3, "com..authenticate", "wildcard")
            self.assert_refused(mallory, 4, "", "prefix")
            self.assert_refused(mallory, 5, "com.auth.authorize")
            # nothing else is blocked for it
            self.assert_registered(mallory, 6, "com.app.work")
            r.wait_log(r"REGISTER refused .*authid=mallory authrole=backend: it covers the "
                       r"authenticator com\.auth\.authenticate, which only authrole "
                       r"authenticator may register")
            # a ticket login meanwhile: no authenticator, refused; mallory hears nothing
            ws = self.ticket_hello(r)
            self.assertEqual(ws.recv()[:3:2], [ABORT, "wamp.error.authentication_failed"])
            ws.close()

            # the pinned roles register them, and the router's calls reach them
            authsvc = wampcra(r, "authsvc")
            self.assert_registered(authsvc, 1, "com.auth.authenticate")
            authzsvc = wampcra(r, "authzsvc")
            self.assert_registered(authzsvc, 1, "com.auth.authorize")
            ws = self.ticket_hello(r)
            inv = authsvc.recv()
            self.assertEqual(inv[0], INVOCATION, inv)
            self.assertEqual(inv[4][1], "joe")
            authsvc.send([YIELD, inv[1], {}, [{"role": "user"}]])
            welcome = ws.recv()
            self.assertEqual(welcome[0], WELCOME, welcome)
            self.assertEqual(welcome[2]["authrole"], "user")
            ws.close()
            # an anonymous session of the dynamic role asks the pinned authorizer
            anon = anonymous(r)
            anon.send([CALL, 1, {}, "com.app.work"])
            inv = authzsvc.recv()
            self.assertEqual(inv[0], INVOCATION, inv)
            authzsvc.send([YIELD, inv[1], {}, [True]])
            inv = mallory.recv()
            self.assertEqual(inv[0], INVOCATION, inv)
            mallory.send([YIELD, inv[1], {}, ["done"]])
            self.assertEqual(anon.recv()[0], RESULT)
            # the real authenticator leaves: mallory still cannot step in
            authsvc.send([UNREGISTER, 2, 0])
            authsvc.close()
            self.assert_refused(mallory, 7, "com.auth.authenticate")
            for ws in (anon, authzsvc, mallory):
                ws.close()

    def test_unpinned_open_realm(self):
        """A realm without roles lets anyone register anything - but not the
        authenticator, unless its role is pinned."""
        with WampdProcess(config=UNPINNED_OPEN) as r:
            anyone = anonymous(r)
            self.assert_refused(anyone, 1, "com.auth.authenticate")
            self.assert_refused(anyone, 2, "com.auth", "prefix")
            self.assert_registered(anyone, 3, "com.auth.other")
            r.wait_log(r"REGISTER refused .*authrole=anyone: it covers the authenticator "
                       r"com\.auth\.authenticate, which only a role with an explicit register "
                       r"permission")
            anyone.close()

    def test_unpinned_explicit_permission(self):
        with WampdProcess(config=UNPINNED_ROLES) as r:
            mallory = wampcra(r, "mallory")  # may call com.auth.*, not register
            self.assert_refused(mallory, 1, "com.auth.authenticate")
            authsvc = wampcra(r, "authsvc")
            self.assert_registered(authsvc, 1, "com.auth.authenticate")
            ws = self.ticket_hello(r, "amy")
            inv = authsvc.recv()
            self.assertEqual(inv[0], INVOCATION, inv)
            authsvc.send([YIELD, inv[1], {}, [{"role": "user"}]])
            self.assertEqual(ws.recv()[0], WELCOME)
            for s in (ws, authsvc, mallory):
                s.close()


if __name__ == "__main__":
    unittest.main()
