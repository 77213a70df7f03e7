"""The admin listener's boundary (SECURITY.md): the admin is trusted, nobody else.

- An admin listener reachable from other hosts without a ticket does not start (the status
  pages list every session, the metrics every realm).
- With a ticket, every path but /health refuses a missing, wrong, truncated, extended or
  differently-cased ticket, in the header and in the query string.
- Nothing the admin pages show carries a secret: the principals' tickets and the admin
  ticket itself appear nowhere in /status.json, /metrics or the logs.
"""
# ctest-areas: admin

import http.client
import json
import os
import subprocess
import sys
import tempfile
import unittest
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS  # noqa: E402

HELLO, WELCOME, CHALLENGE, AUTHENTICATE = 1, 2, 4, 5
TICKET = "adm-9f3c2e71d0"
JOE_TICKET = "joe-secret-ticket-4711"


def get(base, path, headers=None):
    host, port = base.split("//")[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


class AdminExposure(unittest.TestCase):
    def start_fails(self, admin):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"admin": admin, "realms": [{"name": "realm1"}]}, f)
            f.flush()
            p = subprocess.run([os.environ["WAMPD_BIN"], "--config", f.name, "--port", "0"],
                               capture_output=True, text=True, timeout=30)
        return p

    def test_no_ticket_beyond_loopback_refused(self):
        for host in ("*", "0.0.0.0", "", "192.0.2.1"):
            with self.subTest(host=host):
                p = self.start_fails({"host": host, "port": 0})
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("admin.ticket: is required", p.stderr)

    def test_ticket_required_and_nothing_secret_shown(self):
        config = {
            "admin": {"port": 0, "ticket": TICKET},
            "listeners": [{"port": 0, "auth": {"ticket": {"type": "static", "principals": {
                "joe": {"ticket": JOE_TICKET, "role": "user"}}}}}],
            "realms": [{"name": "realm1", "roles": [{"name": "user", "permissions": []}]}]}
        with WampdProcess(config=config) as r:
            ws = WS("127.0.0.1", r.port, path=r.path)
            ws.send([HELLO, "realm1", {"roles": {"caller": {}}, "authmethods": ["ticket"],
                                       "authid": "joe"}])
            self.assertEqual(ws.recv()[0], CHALLENGE)
            ws.send([AUTHENTICATE, JOE_TICKET, {}])
            self.assertEqual(ws.recv()[0], WELCOME)
            base = r.admin_url
            self.assertEqual(get(base, "/health")[0], 200)
            for path in ("/metrics", "/status", "/status.json"):
                for bad in ("", TICKET[:-1], TICKET + "x", TICKET.upper(), JOE_TICKET,
                            " " + TICKET):
                    with self.subTest(path=path, ticket=bad):
                        self.assertEqual(get(base, path, {"Authorization": "Bearer " + bad})[0],
                                         401)
                        self.assertEqual(get(base, path + "?ticket=" + quote(bad))[0], 401)
                self.assertEqual(get(base, path, {"Authorization": "Bearer " + TICKET})[0], 200)
            st, status = get(base, "/status.json", {"Authorization": "Bearer " + TICKET})
            st2, metrics = get(base, "/metrics?ticket=" + TICKET)
            self.assertIn(b"joe", status)  # the session is listed ...
            for body in (status, metrics):
                self.assertNotIn(JOE_TICKET.encode(), body)  # ... without its credential
                self.assertNotIn(TICKET.encode(), body)
            ws.close()
        self.assertNotIn(JOE_TICKET, r.stderr())
        self.assertNotIn(TICKET, r.stderr())


if __name__ == "__main__":
    unittest.main(verbosity=2)
