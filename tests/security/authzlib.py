"""Helpers of the authorization regression tests (issue #17): a router configured with
ticket principals per role, sessions that log in as one of them over raw WebSocket frames,
and a dynamic authorizer driven inline by the test (each question answered by a function).

Every principal <name> has the ticket "t-<name>". Anonymous sessions get the role
"witness", which may only register and call com.witness.* (WireCase's witness session).
"""

import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from wsraw import Closed  # noqa: E402
from wirecase import (WireCase, WELCOME, CHALLENGE, AUTHENTICATE, ERROR,  # noqa: E402,F401
                      PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT, CALL, RESULT,
                      REGISTER, REGISTERED, INVOCATION, YIELD)

NOT_AUTHORIZED = "wamp.error.not_authorized"
INVALID_URI = "wamp.error.invalid_uri"
INVALID_ARGUMENT = "wamp.error.invalid_argument"

ROLES_HELLO = {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}

WITNESS_ROLE = {"name": "witness", "permissions": [
    {"uri": "com.witness.", "match": "prefix", "allow": {"call": True, "register": True}}]}


def allow(*actions):
    """The allow object of a permission: allow("subscribe", "publish")."""
    return {a: True for a in actions}


def perm(uri, match, *actions):
    return {"uri": uri, "match": match, "allow": allow(*actions)}


def config(roles, principals, history=(), cache_ttl=60000, realm_extra=None):
    """A router config: roles (list of role objects), principals {authid: role}, event
    history entries [(uri, match, limit)]."""
    realm = {"name": "realm1", "authorizer_cache_ttl": cache_ttl,
             "roles": [WITNESS_ROLE] + list(roles)}
    if history:
        realm["event_history"] = [{"uri": u, "match": m, "limit": n} for u, m, n in history]
    realm.update(realm_extra or {})
    return {
        "listeners": [{"port": 0, "auth": {
            "anonymous": {"type": "static", "role": "witness"},
            "ticket": {"type": "static", "principals": {
                name: {"ticket": "t-" + name, "role": role}
                for name, role in principals.items()}}}}],
        "realms": [realm]}


class AuthzCase(WireCase):
    """WireCase with logins as principals and request helpers that return the answer."""

    def login(self, authid, protocol="wamp.2.json", details=None):
        ws = self.open(protocol)
        hello = {"authmethods": ["ticket"], "authid": authid, "roles": ROLES_HELLO}
        hello.update(details or {})
        ch = ws.hello("realm1", hello)
        self.assertEqual(ch[0], CHALLENGE, ch)
        ws.send([AUTHENTICATE, "t-" + authid, {}])
        welcome = ws.recv()
        self.assertEqual(welcome[0], WELCOME, welcome)
        ws.session_id = welcome[1]
        ws.welcome = welcome
        ws.next_req = 1000
        return ws

    @staticmethod
    def req(ws):
        ws.next_req += 1
        return ws.next_req

    def request(self, ws, msg):
        """Send msg (its request id filled in) and return the answer."""
        msg[1] = self.req(ws)
        ws.send(msg)
        reply = ws.recv()
        self.assertIn(reply[0], (ERROR, SUBSCRIBED, REGISTERED, RESULT, PUBLISHED), reply)
        if reply[0] == ERROR:
            self.assertEqual(reply[2], msg[1], reply)
        else:
            self.assertEqual(reply[1], msg[1], reply)
        return reply

    @staticmethod
    def error_of(reply):
        """The ERROR's URI, or None for a success."""
        return reply[4] if reply[0] == ERROR else None

    def subscribe(self, ws, topic, match="exact", **opts):
        opts = dict(opts)
        if match != "exact":
            opts["match"] = match
        return self.request(ws, [SUBSCRIBE, 0, opts, topic])

    def register(self, ws, proc, match="exact", **opts):
        opts = dict(opts)
        if match != "exact":
            opts["match"] = match
        return self.request(ws, [REGISTER, 0, opts, proc])

    def publish(self, ws, topic, args=(), **opts):
        opts = dict(opts, acknowledge=True)
        return self.request(ws, [PUBLISH, 0, opts, topic, list(args)])

    def call(self, ws, proc, args=(), kwargs=None):
        msg = [CALL, 0, {}, proc, list(args)]
        if kwargs is not None:
            msg.append(kwargs)
        return self.request(ws, msg)


    def start_authorizer(self, decide, authid="authz", procedure="com.authz"):
        """Log in as authid, register procedure and answer its questions with decide(session,
        uri, action, options) from a thread (self.authz, an Authorizer) until the test ends;
        the test fails if the authorizer lost its connection or got anything but questions."""
        self.authz_ws = self.login(authid)
        self.assertIsNone(self.error_of(self.register(self.authz_ws, procedure)))
        self.authz = Authorizer(self.authz_ws, decide)
        self.authz.start()
        self._authorizer = self.authz

    def tearDown(self):
        authz = self.__dict__.pop("_authorizer", None)
        if authz:
            authz.stop()
            self.assertIsNone(authz.failure)
        WireCase.tearDown(self)


class Authorizer(threading.Thread):
    """A dynamic authorizer: a session (already registered as the procedure) answering each
    INVOCATION with decide(session, uri, action, options), in a thread. Every question is
    recorded (before its answer is sent, so a client that has its reply sees it recorded).
    """

    def __init__(self, ws, decide):
        threading.Thread.__init__(self, daemon=True)
        self.ws = ws
        self.decide = decide
        self.questions = []   # (uri, action, options, session details)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.failure = None

    def run(self):
        while not self.stopping.is_set():
            try:
                inv = self.ws.recv(timeout=0.25)  # the timeout only notices stop()
            except TimeoutError:
                continue
            except (Closed, OSError) as e:
                self.failure = "authorizer connection lost: %r" % (e,)
                return
            if inv[0] != INVOCATION:
                self.failure = "authorizer got %r" % (inv,)
                return
            session, uri, action, options = inv[4]
            with self.lock:
                self.questions.append((uri, action, options, session))
            self.ws.send([YIELD, inv[1], {}, [self.decide(session, uri, action, options)]])

    def take(self):
        """The questions asked since the last take()."""
        with self.lock:
            q, self.questions = self.questions, []
        return q

    def stop(self):
        self.stopping.set()
        self.join(5)
        self.ws.close()


def answer_question(case, authz, decide):
    """Take the authorizer session's next INVOCATION, answer decide(session, uri, action,
    options) and return (uri, action, options)."""
    inv = authz.recv()
    case.assertEqual(inv[0], INVOCATION, inv)
    session, uri, action, options = inv[4]
    authz.send([YIELD, inv[1], {}, [decide(session, uri, action, options)]])
    return uri, action, options
