"""Issue #17, finding 3: hijacking a long-poll session with what the router shows of it.

A long-poll transport's "transport" value (what /open returns and the client puts into
its URLs) is its session's only credential. The attack: a victim joins over long-poll; an
attacker session of the same realm reads everything that describes the victim
(wamp.session.on_join, wamp.session.get, wamp.session.list; the admin's /status.json) and
uses whatever it finds, and guesses near the secret (truncated, altered, lengthened), to
/send as the victim, steal its /receive, or /close it. Every such request must get 404
and change nothing for the victim; the secret appears nowhere, not even in the router's
debug log. Before the fix the transport details carried the secret itself.
"""
# ctest-areas: longpoll http meta admin

import json
import os
import random
import string
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "wire"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))

from httpc import post_json, request  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS  # noqa: E402

HELLO, WELCOME, SUBSCRIBE, SUBSCRIBED, EVENT = 1, 2, 32, 33, 36
CALL, RESULT = 48, 50
ADMIN_TICKET = "admin-ticket-for-the-status-page"

CONFIG = {
    "listeners": [{"port": 0, "path": "/ws", "http": {
        "/lp": {"type": "longpoll", "poll_timeout": 2, "idle_timeout": 30},
    }}],
    "realms": [{"name": "realm1"}],
    "admin": {"port": 0, "ticket": ADMIN_TICKET},
}


def strings_in(v):
    """Every string and number inside a decoded JSON value, as text."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield str(k)
            yield from strings_in(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings_in(x)
    elif v is not None and not isinstance(v, bool):
        yield str(v)


class LongPollHijack(unittest.TestCase):
    def setUp(self):
        self.r = WampdProcess(config=CONFIG, log_level="debug").start()
        self.port = self.r.port
        self.attacker = WS("127.0.0.1", self.port, "/ws")
        self.assertEqual(self.attacker.hello()[0], WELCOME)
        self.req = 0

    def tearDown(self):
        self.attacker.close()
        self.r.stop()

    # ---------------------------------------------------------------- the attacker
    def call(self, procedure, args=None):
        self.req += 1
        msg = [CALL, self.req, {}, procedure] + ([args] if args is not None else [])
        self.attacker.send(msg)
        while True:
            m = self.attacker.recv(timeout=5)
            if m[0] != EVENT:
                break
        self.assertEqual(m[:2], [RESULT, self.req], m)
        return m

    def status_json(self):
        req = urllib.request.Request(self.r.admin_url + "/status.json",
                                     headers={"Authorization": "Bearer " + ADMIN_TICKET})
        with urllib.request.urlopen(req, timeout=5) as f:
            return json.loads(f.read())

    # ---------------------------------------------------------------- the victim
    def lp(self, token, op, body=None, timeout=5):
        return request(self.port, "POST", "/lp/%s/%s" % (token, op), body, timeout=timeout)

    def victim_open(self):
        st, body = post_json(self.port, "/lp/open", {"protocols": ["wamp.2.json"]})
        self.assertEqual(st, 200, body)
        token = body["transport"]
        st, _, _ = self.lp(token, "send", json.dumps([HELLO, "realm1", {"roles": {"caller": {}}}]))
        self.assertEqual(st, 204)
        st, _, data = self.lp(token, "receive")
        self.assertEqual(st, 200)
        welcome = json.loads(data)
        self.assertEqual(welcome[0], WELCOME, welcome)
        return token, welcome[1]

    def victim_calls(self, token, req):
        """The victim's session still works: a call answered on its own receive."""
        st, _, _ = self.lp(token, "send", json.dumps([CALL, req, {}, "wamp.session.count"]))
        self.assertEqual(st, 204)
        st, _, data = self.lp(token, "receive")
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(data)[:2], [RESULT, req])

    # ---------------------------------------------------------------- the attack
    def test_nothing_shown_opens_the_transport(self):
        self.attacker.send([SUBSCRIBE, 1, {}, "wamp.session.on_join"])
        self.assertEqual(self.attacker.recv(timeout=5)[0], SUBSCRIBED)
        token, victim = self.victim_open()

        ev = self.attacker.recv(timeout=5)
        self.assertEqual(ev[0], EVENT, ev)
        seen = {"on_join": ev[4][0]}
        self.assertEqual(seen["on_join"]["session"], victim)
        seen["session.get"] = self.call("wamp.session.get", [victim])[3][0]
        seen["session.list"] = self.call("wamp.session.list")[3]
        seen["status.json"] = self.status_json()
        # the victim is described (so the test looks at the right thing) ...
        self.assertEqual(seen["session.get"]["transport"]["type"], "longpoll")
        self.assertIn(str(victim), json.dumps(seen["status.json"]))
        # ... but its secret is nowhere, in no form
        for where, v in seen.items():
            text = json.dumps(v)
            self.assertNotIn(token, text, where)
            for s in strings_in(v):
                self.assertFalse(len(s) >= 8 and s in token, (where, s))

        # whatever it saw, used as a transport: 404, and the victim is untouched
        candidates = set(strings_in(seen)) | {str(victim)}
        hijack = json.dumps([CALL, 99, {}, "wamp.session.kill", [victim]])
        for cand in sorted(candidates):
            if "/" in cand or "?" in cand or "#" in cand or not cand.strip() or \
                    any(c <= " " for c in cand):
                continue
            for op, body in (("send", hijack), ("receive", None), ("close", None)):
                st, _, _ = self.lp(cand, op, body)
                self.assertEqual(st, 404, "/lp/%s/%s" % (cand, op))
        self.victim_calls(token, 1)

        # near the secret: truncated, lengthened, one character changed, case swapped,
        # another random one of the same shape
        def other(c):
            return "A" if c != "A" else "B"
        alphabet = string.ascii_letters + string.digits + "-_"
        guesses = [token[:-1], token[:16], token + "A", token[:-1] + other(token[-1]),
                   other(token[0]) + token[1:],
                   token.swapcase() if token.swapcase() != token else token[::-1],
                   "".join(random.choice(alphabet) for _ in token), "%s%%00" % token[:-1],
                   token + "/x"]
        for g in guesses:
            self.assertNotEqual(g, token)
            for op, body in (("send", hijack), ("receive", None), ("close", None)):
                st, _, _ = self.lp(g, op, body)
                self.assertEqual(st, 404, "/lp/%s/%s" % (g, op))
        self.victim_calls(token, 2)

        # the secret never reached the log either (debug level: every request logged)
        self.assertNotIn(token, self.r.stderr())
        self.assertIn("/lp", self.r.stderr())

        # and it is the credential: with it, the victim closes its transport
        st, _, _ = self.lp(token, "close")
        self.assertEqual(st, 204)
        st, _, _ = self.lp(token, "receive")
        self.assertEqual(st, 404)

    def test_secret_is_unguessable(self):
        """Tokens are long, URL-safe, and differ between transports."""
        tokens = set()
        for _ in range(4):
            st, body = post_json(self.port, "/lp/open", {"protocols": ["wamp.2.json"]})
            self.assertEqual(st, 200)
            t = body["transport"]
            self.assertGreaterEqual(len(t) * 6, 128, t)  # base64: 6 bits per character
            self.assertTrue(set(t) <= set(string.ascii_letters + string.digits + "-_"), t)
            tokens.add(t)
        self.assertEqual(len(tokens), 4)
        for t in tokens:
            self.assertEqual(self.lp(t, "close")[0], 204)


if __name__ == "__main__":
    unittest.main()
