"""A resume token works once, only for its session and its authid (docs/resumption.md).
("Once": the token a client resumed with stays valid until it speaks on the resumed
connection, since the WELCOME with its new token may have been lost with the link; from
its first message on, the used token is refused.)

A resumable session's token is what lets a new connection take the session over, with
everything the router kept for it. An attacker who guesses a token, holds a used one, or
holds a valid one but authenticates as someone else (another authid, or anonymously) gets
ABORT wamp.error.authentication_failed, and the session is left alone: its client resumes
it afterwards with the right token and gets what was kept, exactly. The token never shows
in the meta API or the router's log. Before resumption existed the router ignored
HELLO.Details.resume and welcomed every one of these connections into a new session.
"""
# ctest-areas: resume auth

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS  # noqa: E402

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, GOODBYE, ACK = 1, 2, 3, 4, 5, 6, 7
PUBLISH, SUBSCRIBE, SUBSCRIBED, EVENT, CALL, RESULT = 16, 32, 33, 36, 48, 50

TICKETS = {"joe": "t-joe", "amy": "t-amy"}
CONFIG = {
    "listeners": [
        {"port": 0, "path": "/t", "auth": {"ticket": {"type": "static", "principals": {
            "joe": {"ticket": "t-joe", "role": "user"},
            "amy": {"ticket": "t-amy", "role": "user"}}}}},
        {"port": 0, "path": "/a", "auth": {"anonymous": {"type": "static", "role": "user"}}}],
    "limits": {"max_auth_failures_per_ip": 0},
    "realms": [{"name": "realm1", "resume": {"window_s": 60, "max_bytes": 65536}}],
}


class Client:
    """A raw WebSocket WAMP client that counts what it receives after WELCOME (ACKs aside),
    as a resumable client must."""

    def __init__(self, port, path):
        self.ws = WS("127.0.0.1", port, path="/" + path)
        self.received = 0

    def send(self, msg):
        self.ws.send(msg)

    def recv(self, timeout=5):
        while True:
            msg = self.ws.recv(timeout)
            if msg[0] != ACK:
                self.received += 1
                return msg

    def hello(self, authid=None, resume=None):
        details = {"roles": {"subscriber": {}, "publisher": {}, "caller": {}},
                   "resumable": True}
        if authid:
            details.update({"authmethods": ["ticket"], "authid": authid})
        if resume:
            details["resume"] = resume
        self.send([HELLO, "realm1", details])
        msg = self.ws.recv()
        if msg[0] == CHALLENGE:
            self.send([AUTHENTICATE, TICKETS[authid], {}])
            msg = self.ws.recv()
        return msg

    def close(self):
        self.ws.close()


class ResumeToken(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=CONFIG).start()
        cls.ports = {u.rsplit("/", 1)[1]: int(u.split(":")[2].split("/")[0])
                     for u in cls.r.urls if u.startswith("ws://")}

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()

    def client(self, path="t"):
        return Client(self.ports[path], path)

    def refused(self, path, authid, resume):
        c = self.client(path)
        msg = c.hello(authid, resume)
        c.close()
        self.assertEqual(msg[0], ABORT, "a resume with %r as %s was not refused: %r"
                         % (resume, authid or "anonymous", msg))
        self.assertEqual(msg[2], "wamp.error.authentication_failed")

    def test_tokens(self):
        joe = self.client()
        welcome = joe.hello("joe")
        self.assertEqual(welcome[0], WELCOME)
        session, token = welcome[1], welcome[2].get("resume-token")
        self.assertTrue(welcome[2].get("resumable"))
        self.assertEqual(len(token), 44)
        joe.send([SUBSCRIBE, 1, {}, "com.t"])
        self.assertEqual(joe.recv()[0], SUBSCRIBED)
        received = joe.received
        joe.close()   # the link drops: the session waits for joe

        resume = {"session": session, "token": token, "received": received}
        # amy holding joe's token
        self.refused("t", "amy", resume)
        # anyone anonymous holding it, through the anonymous listener: the session is not
        # resumable there (another listener is no way in), so it is a new session of its
        # own, that learns nothing of joe's (and leaves it alone)
        c = self.client("a")
        msg = c.hello(None, resume)
        c.close()
        self.assertEqual(msg[0], WELCOME, msg)
        self.assertNotEqual(msg[1], session)
        self.assertFalse(msg[2].get("resumed"))
        # a guess: joe's token with one character changed
        guess = ("B" if token[0] == "A" else "A") + token[1:]
        self.refused("t", "joe", dict(resume, token=guess))
        # a token of the right length that is not base64 of 32 bytes
        self.refused("t", "joe", dict(resume, token="=" * 44))

        # meanwhile the session was kept, untouched: an event published now waits for it
        pub = self.client()
        self.assertEqual(pub.hello("amy")[0], WELCOME)
        pub.send([PUBLISH, 1, {}, "com.t", ["kept"]])
        # the meta API shows it without its token
        pub.send([CALL, 2, {}, "wamp.session.get", [session]])
        res = pub.recv()
        self.assertEqual(res[0], RESULT)
        self.assertNotIn(token, repr(res))

        joe = self.client()
        welcome = joe.hello("joe", resume)
        self.assertEqual(welcome[0], WELCOME, welcome)
        self.assertEqual(welcome[1], session)
        self.assertTrue(welcome[2].get("resumed"))
        self.assertEqual(welcome[2].get("received"), 1)   # its SUBSCRIBE
        token2 = welcome[2]["resume-token"]
        self.assertNotEqual(token2, token)
        event = joe.recv()
        self.assertEqual(event[0], EVENT)
        self.assertEqual(event[4], ["kept"])

        # joe speaks on the resumed connection (its ACK): it has the new token, so the
        # used one is refused, and cannot take over the live session either
        joe.send([ACK, joe.received])
        self.refused("t", "joe", dict(resume, received=joe.received))
        pub.send([PUBLISH, 3, {}, "com.t", ["still"]])
        event = joe.recv()
        self.assertEqual(event[0], EVENT)
        self.assertEqual(event[4], ["still"])
        pub.close()
        joe.send([GOODBYE, {}, "wamp.close.close_realm"])
        self.assertEqual(joe.recv()[0], GOODBYE)
        joe.close()
        log = self.r.stderr()
        for t in (token, token2):
            self.assertNotIn(t, log, "a resume token was logged")

    def test_lost_welcome(self):
        """A resume WELCOME lost with its link: the client resumes again with the token it
        has (the one before), and gets the session; the token of the lost WELCOME is then
        refused, and so is the one before once the client has spoken."""
        joe = self.client()
        welcome = joe.hello("joe")
        session, token = welcome[1], welcome[2]["resume-token"]
        joe.send([SUBSCRIBE, 1, {}, "com.lost"])
        self.assertEqual(joe.recv()[0], SUBSCRIBED)
        joe.close()
        pub = self.client()
        self.assertEqual(pub.hello("amy")[0], WELCOME)
        pub.send([PUBLISH, 1, {}, "com.lost", ["one"]])
        resume = {"session": session, "token": token, "received": joe.received}
        # the resume's WELCOME is "lost": the connection drops before the client reads it,
        # and the client has not said anything on it
        lost = self.client()
        welcome = lost.hello("joe", resume)
        self.assertTrue(welcome[2].get("resumed"), welcome)
        lost_token = welcome[2]["resume-token"]
        lost.close()
        pub.send([PUBLISH, 2, {}, "com.lost", ["two"]])
        # the client still holds `token`: it resumes with it, and gets both events once
        joe = self.client()
        welcome = joe.hello("joe", resume)
        self.assertEqual(welcome[0], WELCOME, welcome)
        self.assertEqual(welcome[1], session)
        self.assertTrue(welcome[2].get("resumed"))
        token3 = welcome[2]["resume-token"]
        self.assertNotIn(token3, (token, lost_token))
        self.assertEqual([joe.recv()[4] for _ in range(2)], [["one"], ["two"]])
        # the lost WELCOME's token was replaced: refused even before joe speaks
        self.refused("t", "joe", dict(resume, token=lost_token, received=joe.received))
        # joe speaks: the one it resumed with is used up too
        joe.send([ACK, joe.received])
        self.refused("t", "joe", dict(resume, received=joe.received))
        # and joe's session was left alone through all of it
        pub.send([PUBLISH, 3, {}, "com.lost", ["three"]])
        self.assertEqual(joe.recv()[4], ["three"])
        pub.close()
        joe.send([GOODBYE, {}, "wamp.close.close_realm"])
        self.assertEqual(joe.recv()[0], GOODBYE)
        joe.close()


if __name__ == "__main__":
    unittest.main()
