"""Which authids exist must not show in the answers to HELLO (SECURITY.md).

An attacker who tries names one by one on a ticket or WAMP-CRA listener sees the same thing
for a name that exists and one that does not: a CHALLENGE of the same shape (for salted
WAMP-CRA a salt too, the same one each time it asks for the same name), then the same ABORT
for a wrong secret. Before, an unknown authid got ABORT at once and a known one a CHALLENGE.
"""
# ctest-areas: auth

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS  # noqa: E402

HELLO, ABORT, CHALLENGE, AUTHENTICATE = 1, 3, 4, 5

CONFIG = {
    "listeners": [
        {"port": 0, "path": "/t", "auth": {"ticket": {"type": "static", "principals": {
            "joe": {"ticket": "t-joe", "role": "user"}}}}},
        {"port": 0, "path": "/c", "auth": {"wampcra": {"type": "static", "users": {
            "peter": {"password": "pw", "salt": "pepper", "iterations": 50, "keylen": 32,
                      "role": "user"}}}}}],
    "limits": {"max_auth_failures_per_ip": 0},
    "realms": [{"name": "realm1", "roles": [{"name": "user", "permissions": []}]}],
}


class Enumeration(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=CONFIG).start()
        cls.ports = {u.rsplit("/", 1)[1]: int(u.split(":")[2].split("/")[0])
                     for u in cls.r.urls if u.startswith("ws://")}

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()

    def attempt(self, path, method, authid, secret="wrong"):
        ws = WS("127.0.0.1", self.ports[path], path="/" + path)
        ws.send([HELLO, "realm1", {"roles": {"caller": {}}, "authmethods": [method],
                                   "authid": authid}])
        first = ws.recv()
        last = None
        if first[0] == CHALLENGE:
            ws.send([AUTHENTICATE, secret, {}])
            last = ws.recv()
        ws.close()
        return first, last

    def test_ticket(self):
        known = self.attempt("t", "ticket", "joe")
        for name in ("nobody", "Joe", "joe ", ""):
            with self.subTest(authid=name):
                unknown = self.attempt("t", "ticket", name)
                self.assertEqual(unknown[0][0], CHALLENGE, unknown)
                self.assertEqual(unknown[0], known[0])
                self.assertEqual(unknown[1][0], ABORT)
                self.assertEqual(unknown[1][2], known[1][2])  # the same reason

    def test_wampcra(self):
        known, known_end = self.attempt("c", "wampcra", "peter")
        self.assertEqual(known[0], CHALLENGE)
        for name in ("mallory", "Peter"):
            with self.subTest(authid=name):
                first, end = self.attempt("c", "wampcra", name)
                again, _ = self.attempt("c", "wampcra", name)
                self.assertEqual(first[0], CHALLENGE, first)
                self.assertEqual(sorted(first[2]), sorted(known[2]))  # the same fields
                for k in ("iterations", "keylen"):
                    self.assertEqual(first[2][k], known[2][k])
                self.assertEqual(first[2]["salt"], again[2]["salt"])  # stable per name
                ch = json.loads(first[2]["challenge"])
                self.assertEqual(sorted(ch), sorted(json.loads(known[2]["challenge"])))
                self.assertEqual(ch["authid"], name)
                self.assertEqual(end[0], ABORT)
                self.assertEqual(end[2], known_end[2])


if __name__ == "__main__":
    unittest.main(verbosity=2)
