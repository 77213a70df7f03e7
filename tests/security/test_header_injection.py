"""Issue #17 finding 8: header injection through control characters in request headers.

Before: a bare CR inside a header value was accepted, and the CORS preflight copied
Access-Control-Request-Headers into its answer, so "a\\rX-Injected: 1" became a header line
of the response (for a client or proxy that ends lines at a bare CR). Now the request
parser refuses CR, LF, NUL and the other control characters (HTAB excepted in values) in
header names and values with 400, and nothing of a request is echoed into a response
header but an allowed Origin.

Plain listeners: every such request is 400 (the front door's bytes reach the parser as
sent). TLS listeners: the head is parsed by libwebsockets, then written back and parsed by
the same code: control characters in the headers lws keeps are 400 as well; a bare CR or LF
is consumed by lws itself (it ends the header there) and a header name it does not know is
dropped, so those reach nothing, which is checked too: no injected line in any answer, and
the router keeps serving.
"""
# ctest-areas: http

import socket
import tempfile
import unittest

from httpc import read_responses
from tlscerts import client_context, make_certs, server_tls
from wampd_proc import WampdProcess

CERTS = make_certs(tempfile.mkdtemp(prefix="wampd-hdrinj-"))
ORIGIN = "http://app.example"


def config(tls):
    listener = {"port": 0, "path": "/ws", "allowed_origins": [ORIGIN], "http": {
        "/publish": {"type": "publisher", "realm": "realm1"},
        "/hook": {"type": "webhook", "realm": "realm1", "topic": "com.hook",
                  "headers": ["x-github-event"]},
    }}
    if tls:
        listener["tls"] = server_tls(CERTS, client_ca=False)
    return {"listeners": [listener], "realms": [{"name": "realm1", "roles": [
        {"name": "anonymous", "permissions": [{"uri": "", "match": "prefix", "allow": {
            "publish": True, "subscribe": True}}]}]}]}


# header lines (without their CRLF) that must be refused with 400 wherever they arrive
# as sent: control characters in values of headers every path keeps, and in names
VALUES = [
    b"Accept: a\x00X-Injected: 1",
    b"Accept: a\x01",
    b"Accept: \x1b[31mred",
    b"Accept: a\x7f",
    b"Accept: a\x0bb",
    b"User-Agent: a\x0cb",
    b"X-GitHub-Event: push\x01",
    b"X-GitHub-Event: push\x00\r\nX-Injected: 1",
]
NAMES = [
    b"X-Inj\x00ected: 1",
    b"X-Inj\rected: 1",
    b"X-Inj\x01ected: 1",
    b"X-Inj\x7fected: 1",
    b"X Injected: 1",
    b"X-Injected : 1",
]
LINE_BREAKS = [  # a bare CR / LF splitting one header line
    b"Access-Control-Request-Headers: a\rX-Injected: 1",  # the finding's request
    b"Access-Control-Request-Headers: a\r",
    b"Access-Control-Request-Headers: a\nX-Injected: 1",
    b"Origin: " + ORIGIN.encode() + b"\rX-Injected: 1",
    b"Origin: " + ORIGIN.encode() + b"\nX-Injected: 1",
    b"X-GitHub-Event: a\rX-Injected: 1",
    b"X-GitHub-Event: a\nX-Injected: 1",
]


class HeaderInjection(unittest.TestCase):
    tls = False

    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=config(cls.tls)).start()
        assert cls.r.url.startswith("wss://" if cls.tls else "ws://"), cls.r.url
        cls.port = cls.r.port

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()

    def exchange(self, data):
        """Send a raw request; the raw answer (one response, EOF or deadline)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if self.tls:
            s = client_context(CERTS).wrap_socket(s, server_hostname="localhost")
        try:
            s.sendall(data)
            return read_responses(s, 5, 1)
        finally:
            s.close()

    def send(self, method, path, line):
        return self.exchange(b"%s %s HTTP/1.1\r\nHost: localhost\r\nOrigin: %s\r\n%s\r\n"
                             b"Content-Length: 0\r\n\r\n" % (method, path, ORIGIN.encode(), line))

    def assert_refused(self, answer, line):
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), (line, answer[:200]))
        self.assert_not_injected(answer, line)

    def assert_not_injected(self, answer, line):
        head = answer.split(b"\r\n\r\n")[0]
        self.assertNotIn(b"x-injected", head.lower(), (line, answer[:300]))
        # no header line of the answer holds a CR, LF or any other control character
        for h in head.split(b"\r\n"):
            self.assertFalse(any(c < 0x20 and c != 0x09 or c == 0x7f for c in h), (line, h))

    def alive(self):
        # the router still serves a well-formed request, on the same kind of connection
        body = b'{"topic": "com.alive"}'
        answer = self.exchange(b"POST /publish HTTP/1.1\r\nHost: localhost\r\n"
                               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                               % (len(body), body))
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 "), (answer[:200], self.r.stderr()))
        self.r.check_sanitizers()

    def test_control_characters_in_values(self):
        for line in VALUES:
            # X-GitHub-Event: a header lws keeps (on TLS) only for the webhook, which names it
            for method, path in (((b"POST", b"/hook"),) if line.startswith(b"X-GitHub") else
                                 ((b"OPTIONS", b"/publish"), (b"POST", b"/publish"),
                                  (b"POST", b"/hook"))):
                self.assert_refused(self.send(method, path, line), line)
        self.alive()

    def test_preflight_echoes_nothing(self):
        answer = self.send(b"OPTIONS", b"/publish",
                           b"Access-Control-Request-Headers: x-made-up-header")
        self.assertTrue(answer.startswith(b"HTTP/1.1 204 "), answer)
        self.assertNotIn(b"x-made-up-header", answer.lower())
        self.assertIn(b"Access-Control-Allow-Origin: " + ORIGIN.encode(), answer)
        self.alive()

    def test_tab_is_allowed_in_values(self):
        answer = self.send(b"OPTIONS", b"/publish", b"Accept: a\tb")
        self.assertTrue(answer.startswith(b"HTTP/1.1 204 "), answer)

    def test_control_characters_in_names(self):
        for line in NAMES:
            answer = self.send(b"OPTIONS", b"/publish", line)
            if self.tls:
                # lws keeps no header it does not know by name (these reach nothing)
                self.assert_not_injected(answer, line)
            else:
                self.assert_refused(answer, line)
        self.alive()

    def test_line_breaks_inside_a_value(self):
        for line in LINE_BREAKS:
            for method, path in ((b"OPTIONS", b"/publish"), (b"POST", b"/hook")):
                answer = self.send(method, path, line)
                if self.tls:
                    # lws ended the header at the CR or LF before wampd saw it
                    self.assert_not_injected(answer, line)
                else:
                    self.assert_refused(answer, line)
        self.alive()


class HeaderInjectionTLS(HeaderInjection):
    tls = True


if __name__ == "__main__":
    unittest.main()
