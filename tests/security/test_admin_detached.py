"""Detached resumable sessions on the admin status page (docs/resumption.md, issue #20).

A resumable session whose link is cut stays in its realm, detached, for its resume window:
it has no connection, so the connection-centred status page did not show what it holds.
/status.json now lists it per realm under "detached" with its realm, id, authid, authrole,
since when it is detached, the time left in its window, its replay log (messages and bytes)
against its max_bytes and the calls waiting for it; the page has a table of them; /metrics
counts them (wampd_sessions_detached, and detaches, resumes and ends by why).

What must not be shown: the resume token, or the hash the router keeps of it (the admin is
trusted, but secrets are never shown). The listing needs the admin ticket like every other
admin path. After a resume the session is no longer listed as detached; after its window
passes it is not listed at all.

Every wait is on an event with a deadline: the router's log line for the detach, the resume
and the end (written after the state changed, on the loop that also answers /status.json).
"""
# ctest-areas: admin resume

import base64
import hashlib
import http.client
import json
import os
import socket
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

import promparse  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS  # noqa: E402

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, GOODBYE, ACK = 1, 2, 3, 4, 5, 6, 7
PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT = 16, 17, 32, 33, 36
CALL, RESULT, REGISTER, REGISTERED, INVOCATION, YIELD = 48, 50, 64, 65, 68, 70

ADMIN_TICKET = "adm-detached-5e1f"
JOE_TICKET = "t-joe-7c2d9"
MAX_BYTES = 65536
SHORT_WINDOW_S = 4
CONFIG = {
    "admin": {"port": 0, "ticket": ADMIN_TICKET},
    "listeners": [{"port": 0, "auth": {
        "ticket": {"type": "static", "principals": {"joe": {"ticket": JOE_TICKET,
                                                            "role": "user"}}},
        "anonymous": {"type": "static", "role": "anonymous"}}}],
    "realms": [{"name": "realm1", "resume": {"window_s": 600, "max_bytes": MAX_BYTES}},
               {"name": "short", "resume": {"window_s": SHORT_WINDOW_S, "max_bytes": MAX_BYTES}}],
}
DETACHED_KEYS = {"id", "authid", "authrole", "peer", "detached_at_ms", "detached_for_ms",
                 "window_left_ms", "log_messages", "log_bytes", "log_max_bytes", "waiting_calls"}


class Client:
    """A raw WebSocket WAMP client that counts what it receives after WELCOME (ACKs aside),
    as a resumable client must, and the encoded size of every message it received."""

    def __init__(self, port, path):
        self.ws = WS("127.0.0.1", port, path=path)
        self.received = 0
        self.sizes = []

    def send(self, msg):
        self.ws.send(msg)

    def recv_raw(self, timeout=5):
        op, fin, payload = self.ws.recv_frame(timeout)
        assert fin, "the router does not fragment these messages"
        return len(payload), self.ws.decode(op, payload)

    def recv(self, timeout=5):
        while True:
            n, msg = self.recv_raw(timeout)
            if msg[0] != ACK:
                self.received += 1
                self.sizes.append(n)
                return msg

    def hello(self, realm, authid=None, resume=None, resumable=True):
        details = {"roles": {"subscriber": {}, "publisher": {}, "caller": {}, "callee": {}}}
        if resumable:
            details["resumable"] = True
        if authid:
            details.update({"authmethods": ["ticket"], "authid": authid})
        if resume:
            details["resume"] = resume
        self.send([HELLO, realm, details])
        msg = self.ws.recv()
        if msg[0] == CHALLENGE:
            self.send([AUTHENTICATE, JOE_TICKET, {}])
            msg = self.ws.recv()
        return msg

    def cut(self):
        """The link is lost: no GOODBYE, no WebSocket close frame, just the TCP connection."""
        try:
            self.ws.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ws.sock.close()

    def close(self):
        self.ws.close()


def token_hash(token, session, authid):
    """The hash realm/replay.c keeps of a token (domain with its NUL, token, id LE, authid)."""
    h = hashlib.blake2b(digest_size=32)
    h.update(b"wampd resume token v1\0")
    h.update(base64.b64decode(token))
    h.update(session.to_bytes(8, "little"))
    h.update(authid.encode())
    return h.digest()


class AdminDetached(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=CONFIG).start()
        cls.port, cls.path = cls.r.port, cls.r.path

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()

    def get(self, path, ticket=ADMIN_TICKET):
        host, port = self.r.admin_url.split("//")[1].split(":")
        c = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            c.request("GET", path, headers={"Authorization": "Bearer " + ticket} if ticket else {})
            res = c.getresponse()
            return res.status, res.read()
        finally:
            c.close()

    def status(self):
        st, body = self.get("/status.json")
        self.assertEqual(st, 200, body)
        return body, {r["name"]: r for r in json.loads(body)["realms"]}

    def metrics(self):
        st, body = self.get("/metrics")
        self.assertEqual(st, 200, body)
        return body, promparse.parse(body.decode())

    def client(self):
        return Client(self.port, self.path)

    def joined(self, realm, authid=None, resumable=True):
        c = self.client()
        w = c.hello(realm, authid, resumable=resumable)
        self.assertEqual(w[0], WELCOME, w)
        return c, w

    def assert_no_secret(self, bodies, secrets):
        for name, body in bodies.items():
            for s in secrets:
                self.assertNotIn(s, body, "a resume secret is shown in %s" % name)

    def test_detached_listed_without_secrets_until_resumed(self):
        _, m0 = self.metrics()
        joe, welcome = self.joined("realm1", "joe")
        session, token = welcome[1], welcome[2]["resume-token"]
        self.assertTrue(welcome[2]["resumable"])
        joe.send([SUBSCRIBE, 1, {}, "com.det.t"])
        self.assertEqual(joe.recv()[0], SUBSCRIBED)
        joe.send([REGISTER, 2, {}, "com.det.p"])
        self.assertEqual(joe.recv()[0], REGISTERED)
        before_cut = joe.received
        # attached: a session, not a detached one
        _, realms = self.status()
        self.assertIn(session, [s["id"] for s in realms["realm1"]["sessions"]])
        self.assertEqual(realms["realm1"]["detached"], [])
        self.assertEqual(realms["realm1"]["detached_count"], 0)

        joe.cut()
        self.r.wait_log(r"detached session=%d realm=realm1 authid=joe" % session, timeout=10)
        # while detached: two events go to its log, a call waits for it
        other, _ = self.joined("realm1", resumable=False)
        other.send([PUBLISH, 10, {"acknowledge": True}, "com.det.t", ["one"]])
        other.send([PUBLISH, 11, {"acknowledge": True}, "com.det.t", ["two", "x" * 200]])
        self.assertEqual(other.recv()[0], PUBLISHED)   # routed (to the log)
        self.assertEqual(other.recv()[0], PUBLISHED)
        other.send([CALL, 12, {}, "com.det.p", [1]])
        # the CALL is routed before the next message of the same connection is answered
        other.send([PUBLISH, 13, {"acknowledge": True}, "com.det.none", []])
        self.assertEqual(other.recv()[0], PUBLISHED)

        body, realms = self.status()
        r1 = realms["realm1"]
        self.assertEqual(r1["detached_count"], 1)
        self.assertEqual(len(r1["detached"]), 1)
        d = r1["detached"][0]
        self.assertEqual(set(d), DETACHED_KEYS)   # nothing else: no token, no hash
        self.assertEqual(d["id"], session)
        self.assertEqual((d["authid"], d["authrole"]), ("joe", "user"))
        self.assertRegex(d["peer"], r"^127\.0\.0\.1:\d+$")
        now_ms = json.loads(body)["now_ms"]
        self.assertLessEqual(d["detached_at_ms"], now_ms)
        self.assertGreater(d["detached_at_ms"], now_ms - 60000)
        self.assertGreaterEqual(d["detached_for_ms"], 0)
        self.assertLessEqual(d["window_left_ms"], 600000)
        self.assertGreater(d["window_left_ms"], 600000 - 60000)
        self.assertEqual(d["window_left_ms"] + d["detached_for_ms"], 600000)
        # SUBSCRIBED, REGISTERED (never acknowledged), two EVENTs, one INVOCATION
        self.assertEqual(d["log_messages"], 5)
        self.assertEqual(d["log_max_bytes"], MAX_BYTES)
        self.assertEqual(d["waiting_calls"], 1)
        self.assertEqual(realms["short"]["detached"], [])
        # the session is still a session of the realm (no connection: transport "detached")
        mine = [s for s in r1["sessions"] if s["id"] == session]
        self.assertEqual(mine[0]["transport"], "detached")

        # the page has the table and fills it from "detached"
        st, page = self.get("/status")
        self.assertEqual(st, 200)
        self.assertIn(b'<table id="detached">', page)
        self.assertIn(b"r.detached", page)
        # the metrics count it
        mtext, m = self.metrics()
        self.assertEqual(m["wampd_sessions_detached"].value(realm="realm1"), 1)
        self.assertEqual(m["wampd_sessions_detached"].value(realm="short"), 0)
        self.assertEqual(m["wampd_sessions_detached_total"].value()
                         - m0["wampd_sessions_detached_total"].value(), 1)

        # no secret anywhere: neither the token nor the hash kept of it, in any encoding
        h = token_hash(token, session, "joe")
        secrets = [token.encode(), token.rstrip("=").encode(), base64.b64decode(token).hex().encode(),
                   h.hex().encode(), h.hex().upper().encode(), base64.b64encode(h),
                   base64.b64encode(h).rstrip(b"="), base64.urlsafe_b64encode(h).rstrip(b"=")]
        self.assert_no_secret({"/status.json": body, "/metrics": mtext, "/status": page}, secrets)
        # the admin ticket guards the listing of detached sessions too
        for t in (None, "wrong", ADMIN_TICKET[:-1]):
            st, refused = self.get("/status.json", ticket=t)
            self.assertEqual(st, 401)
            self.assertNotIn(str(session).encode(), refused)

        # the log's bytes are what the router sent: the client receives them at its resume
        first = joe
        joe = self.client()
        w = joe.hello("realm1", "joe", {"session": session, "token": token,
                                         "received": before_cut})
        self.assertEqual(w[0], WELCOME, w)
        self.assertTrue(w[2].get("resumed"))
        self.r.wait_log(r"resumed session=%d realm=realm1" % session, timeout=10)
        replayed = [joe.recv() for _ in range(3)]
        self.assertEqual([msg[0] for msg in replayed], [EVENT, EVENT, INVOCATION])
        self.assertEqual(d["log_bytes"], sum(first.sizes) + sum(joe.sizes))

        # resumed: attached again, no longer listed as detached
        body, realms = self.status()
        self.assertEqual(realms["realm1"]["detached"], [])
        self.assertEqual(realms["realm1"]["detached_count"], 0)
        mine = [s for s in realms["realm1"]["sessions"] if s["id"] == session]
        self.assertEqual(mine[0]["transport"], "websocket")
        mtext, m = self.metrics()
        self.assertEqual(m["wampd_sessions_detached"].value(realm="realm1"), 0)
        self.assertEqual(m["wampd_sessions_resumed_total"].value()
                         - m0["wampd_sessions_resumed_total"].value(), 1)
        self.assert_no_secret({"/status.json": body}, secrets + [w[2]["resume-token"].encode()])

        # the waiting call is answered once, by the resumed callee
        joe.send([YIELD, replayed[2][1], {}, ["done"]])
        res = other.recv()
        self.assertEqual((res[0], res[1], res[3]), (RESULT, 12, ["done"]))
        joe.send([GOODBYE, {}, "wamp.close.close_realm"])
        self.assertEqual(joe.recv()[0], GOODBYE)
        joe.close()
        other.close()
        self.assertNotIn(token, self.r.stderr())

    def test_window_passes(self):
        _, m0 = self.metrics()
        c, welcome = self.joined("short")
        session = welcome[1]
        self.assertEqual(welcome[2]["resume_window_s"], SHORT_WINDOW_S)
        c.cut()
        self.r.wait_log(r"detached session=%d realm=short" % session, timeout=10)
        _, realms = self.status()
        listed = realms["short"]["detached"]
        self.assertEqual([d["id"] for d in listed], [session])
        self.assertLessEqual(listed[0]["window_left_ms"], SHORT_WINDOW_S * 1000)
        self.assertEqual(listed[0]["authrole"], "anonymous")
        self.assertEqual((listed[0]["log_messages"], listed[0]["log_bytes"],
                          listed[0]["waiting_calls"]), (0, 0, 0))
        # the window passes: it ends, and is listed nowhere
        self.r.wait_log(r"detached session=%d ended \(its window passed\)" % session,
                        timeout=SHORT_WINDOW_S + 15)
        _, realms = self.status()
        self.assertEqual(realms["short"]["detached"], [])
        self.assertNotIn(session, [s["id"] for s in realms["short"]["sessions"]])
        _, m = self.metrics()
        self.assertEqual(m["wampd_sessions_detached"].value(realm="short"), 0)
        self.assertEqual(m["wampd_sessions_detached_ended_total"].value(reason="expired")
                         - m0["wampd_sessions_detached_ended_total"].value(reason="expired"), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
