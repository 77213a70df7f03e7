"""#17 finding 2: "${VAR}" secrets are read from the environment, never taken literally.

A Crossbar config.json writes a ticket as "${MYTICKET}" so the secret is not in the file;
Crossbar reads it from the environment at start. Before the fix wampd took the string
literally: anyone who could read the file logged in with the ticket "${MYTICKET}".

  - Crossbar config, variables set: the environment's ticket / wampcra secret log in, the
    literal "${MYTICKET}" is refused (ABORT wamp.error.authentication_failed);
  - wampd's own format: the admin ticket and an HTTP caller's bearer ticket likewise;
  - a variable that is not set, is empty, or a "${...}" that names no variable: wampd does
    not start (exit 1) and says which key (its JSON path) and which variable;
  - no secret value ever appears in wampd's output (log level debug).
"""
# ctest-areas: config crossbar auth

import base64
import hashlib
import hmac
import http.client
import os
import secrets
import subprocess
import tempfile
import json
import unittest

from httpc import request
from wampd_proc import WampdProcess
from wirecase import ABORT, AUTHENTICATE, CHALLENGE, HELLO, WELCOME, WS

TICKET = "tk-" + secrets.token_hex(12)
CRA_SECRET = "cra-" + secrets.token_hex(12)
ADMIN_TICKET = "adm-" + secrets.token_hex(12)
HTTP_TICKET = "http-" + secrets.token_hex(12)
ENV = {"MYTICKET": TICKET, "PETER_SECRET": CRA_SECRET, "ADMIN_T": ADMIN_TICKET,
       "HTTP_T": HTTP_TICKET}


def crossbar_config(ticket="${MYTICKET}"):
    return {
        "version": 2,
        "workers": [{
            "type": "router",
            "realms": [{"name": "realm1", "roles": [
                {"name": "user", "permissions": [
                    {"uri": "com.app.", "match": "prefix", "allow": {"call": True}}]}]}],
            "transports": [{
                "type": "websocket",
                "endpoint": {"type": "tcp", "port": 8080, "interface": "127.0.0.1"},
                "auth": {
                    "ticket": {"type": "static", "principals": {
                        "joe": {"ticket": ticket, "role": "user"}}},
                    "wampcra": {"type": "static", "users": {
                        "peter": {"secret": "${PETER_SECRET}", "role": "user"}}}}}]}]}


def join(router, details):
    """HELLO with details; the first answer."""
    ws = WS("127.0.0.1", router.port, router.path)
    ws.send([HELLO, "realm1", details])
    return ws, ws.recv()


def ticket_login(router, ticket):
    ws, msg = join(router, {"authmethods": ["ticket"], "authid": "joe"})
    assert msg[0] == CHALLENGE, msg
    ws.send([AUTHENTICATE, ticket, {}])
    msg = ws.recv()
    ws.close()
    return msg


def wampcra_login(router, secret):
    ws, msg = join(router, {"authmethods": ["wampcra"], "authid": "peter"})
    assert msg[0] == CHALLENGE, msg
    sig = hmac.new(secret.encode(), msg[2]["challenge"].encode(), hashlib.sha256).digest()
    ws.send([AUTHENTICATE, base64.b64encode(sig).decode(), {}])
    msg = ws.recv()
    ws.close()
    return msg


def start_fails(config, env):
    """Run wampd on config with env (only these variables of ours); (exit code, stderr)."""
    fd, path = tempfile.mkstemp(prefix="wampd-env-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    full = {k: v for k, v in os.environ.items() if k not in ENV}
    full.update(env)
    try:
        p = subprocess.run([os.environ["WAMPD_BIN"], "--port", "0", "--config", path],
                           env=full, capture_output=True, timeout=30, text=True)
    finally:
        os.unlink(path)
    return p.returncode, p.stderr + p.stdout, path


class EnvSecrets(unittest.TestCase):
    def assert_no_secret(self, text):
        for value in ENV.values():
            self.assertNotIn(value, text)

    def test_crossbar_secrets_from_the_environment(self):
        with WampdProcess(config=crossbar_config(), env=ENV, log_level="debug") as r:
            welcome = ticket_login(r, TICKET)
            self.assertEqual(welcome[0], WELCOME, welcome)
            self.assertEqual((welcome[2]["authid"], welcome[2]["authrole"]), ("joe", "user"))
            # the literal string is no ticket (before the fix: WELCOME)
            abort = ticket_login(r, "${MYTICKET}")
            self.assertEqual(abort[:1] + abort[2:3], [ABORT, "wamp.error.authentication_failed"],
                             abort)
            welcome = wampcra_login(r, CRA_SECRET)
            self.assertEqual(welcome[0], WELCOME, welcome)
            abort = wampcra_login(r, "${PETER_SECRET}")
            self.assertEqual(abort[0], ABORT, abort)
            r.wait_log(r"authentication failed.*authid=peter")
            log = r.stderr()
        self.assert_no_secret(log)

    def test_native_admin_and_http_tickets(self):
        config = {
            "admin": {"port": 0, "ticket": "${ADMIN_T}"},
            "listeners": [{"http": {"/call": {"type": "caller", "realm": "realm1", "auth": {
                "type": "ticket", "tickets": ["${HTTP_T}"]}}}}],
            "realms": [{"name": "realm1"}]}
        with WampdProcess(config=config, env=ENV, log_level="debug") as r:
            host, port = r.admin_url.split("//")[1].split(":")
            for ticket, status in ((ADMIN_TICKET, 200), ("${ADMIN_T}", 401)):
                c = http.client.HTTPConnection(host, int(port), timeout=5)
                c.request("GET", "/metrics", headers={"Authorization": "Bearer " + ticket})
                res = c.getresponse()
                res.read()
                c.close()
                self.assertEqual(res.status, status, ticket)
            for ticket, status in ((HTTP_TICKET, 200), ("${HTTP_T}", 401)):
                st, _, body = request(r.port, "POST", "/call",
                                      {"procedure": "wamp.session.count"},
                                      {"Authorization": "Bearer " + ticket})
                self.assertEqual(st, status, (ticket, body))
            log = r.stderr()
        self.assert_no_secret(log)

    def test_unset_variable_stops_the_start(self):
        env = dict(ENV)
        del env["MYTICKET"]
        code, out, path = start_fails(crossbar_config(), env)
        self.assertEqual(code, 1, out)
        self.assertIn("%s: workers[0].transports[0].auth.ticket.principals.joe.ticket: "
                      "environment variable MYTICKET is not set" % path, out)
        self.assertNotIn("listening", out)
        self.assert_no_secret(out)

    def test_empty_variable_stops_the_start(self):
        code, out, _ = start_fails(crossbar_config(), dict(ENV, MYTICKET=""))
        self.assertEqual(code, 1, out)
        self.assertIn("workers[0].transports[0].auth.ticket.principals.joe.ticket: "
                      "environment variable MYTICKET is empty", out)
        self.assert_no_secret(out)

    def test_no_variable_name_stops_the_start(self):
        code, out, _ = start_fails(crossbar_config("${MY TICKET}"), ENV)
        self.assertEqual(code, 1, out)
        self.assertIn("principals.joe.ticket: \"${...}\" must name an environment variable",
                      out)
        # wampd's own format: an unset variable in a list element names its index
        code, out, _ = start_fails({
            "listeners": [{"http": {"/call": {"type": "caller", "realm": "realm1", "auth": {
                "type": "ticket", "tickets": ["plain", "${NOT_SET_HERE}"]}}}}],
            "realms": [{"name": "realm1"}]}, ENV)
        self.assertEqual(code, 1, out)
        self.assertIn("listeners[0].http./call.auth.tickets[1]: environment variable "
                      "NOT_SET_HERE is not set", out)


if __name__ == "__main__":
    unittest.main()
