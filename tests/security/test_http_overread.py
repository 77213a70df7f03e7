"""Issue #17 finding 6: pre-authentication heap over-read in the HTTP bridge.

The bridge looked for "charset=" in the Content-Type with strcasestr(), which runs to a NUL
byte; the value points into the connection's input buffer, which has none. A request that
fills the buffer exactly (1024 bytes, its first allocation) made the search run off the end
of the heap block: ASan's heap-buffer-overflow, and the router died, on a service with
`auth: none`, before anything is authenticated.

Here: that exact request, requests of every length around the 1024-byte boundary (the
Content-Type the last header, and with the body filling the rest), the Content-Type with
parameters cut at the end of the buffer, on the bridge, the webhook, SSE and long-poll
paths. After each one the router must answer a follow-up request (it is alive), and its
stderr must be free of sanitizer reports (WampdProcess.stop fails on one; the ASan build,
which `make test` runs, turns the over-read into a report).
"""
# ctest-areas: http

import json
import socket
import unittest

from httpc import read_responses, request
from wampd_proc import WampdProcess

CONFIG = {
    "listeners": [{"port": 0, "path": "/ws", "http": {
        "/publish": {"type": "publisher", "realm": "realm1", "auth": {"type": "none"}},
        "/call": {"type": "caller", "realm": "realm1", "call_timeout": 1000},
        "/hook": {"type": "webhook", "realm": "realm1", "topic": "com.hook"},
        "/sse": {"type": "sse", "realm": "realm1"},
        "/lp": {"type": "longpoll"},
    }}],
    "realms": [{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [
        {"uri": "", "match": "prefix",
         "allow": {"call": True, "register": True, "publish": True, "subscribe": True}}]}]}],
}


def send_raw(port, data, timeout=5):
    """Send data in one write; the raw answer (until one response is complete, EOF or the
    deadline)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        return read_responses(s, timeout, 1)
    finally:
        s.close()


def bridge_request(path, total, content_type, fill="body"):
    """A POST of exactly `total` bytes: Content-Type the last header; the body (a JSON
    object without "charset=") fills the rest, or (fill="head") the request is the head
    alone with Content-Length: 0 and the Content-Type value padded to reach total."""
    if fill == "head":
        pre = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Type: " % path)
        pad = total - len(pre) - len(content_type) - 4
        assert pad >= 0
        return (pre + content_type + "a" * pad + "\r\n\r\n").encode()
    head_fmt = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %%d\r\n"
                "Content-Type: %s\r\n\r\n" % (path, content_type))
    # the body's length changes the head's length (its digits): settle both
    n = 0
    for _ in range(3):
        head = head_fmt % n
        n = total - len(head)
    assert n > 20, (total, n)
    body = ('{"topic": "com.x", "args": ["%s"]}' % ("y" * (n - 32))).encode()
    assert len(body) == n, (len(body), n)
    data = (head_fmt % n).encode() + body
    assert len(data) == total, (len(data), total)
    return data


class Overread(unittest.TestCase):
    def setUp(self):
        self.r = WampdProcess(config=CONFIG).start()
        self.port = self.r.port
        self.addCleanup(self.r.stop)

    def alive(self, after):
        self.assertTrue(self.r.alive(), "wampd died after %s:\n%s" % (after, self.r.stderr()))
        st, _, _ = request(self.port, "POST", "/publish", {"topic": "com.alive"})
        self.assertEqual(st, 200, "no answer after %s" % after)
        self.r.check_sanitizers()

    def test_exact_1024_byte_request(self):
        # the request of the finding: parameters after the media type, no "charset="
        data = bridge_request("/publish", 1024, "application/json; x=1")
        answer = send_raw(self.port, data)
        self.assertTrue(answer.startswith(b"HTTP/1.1 "), answer)
        self.alive("the 1024-byte request")

    def test_lengths_around_the_buffer_boundary(self):
        for ct in ("application/json; x=1", "application/json;", "application/json ;p",
                   "application/json; charset", "application/json; charset="):
            for total in range(1016, 1033):
                data = bridge_request("/publish", total, ct)
                answer = send_raw(self.port, data)
                self.assertTrue(answer.startswith(b"HTTP/1.1 "), (ct, total, answer[:80]))
                self.assertTrue(self.r.alive(), (ct, total, self.r.stderr()))
            self.alive("requests of 1016..1032 bytes with Content-Type %r" % ct)

    def test_head_only_requests_ending_in_the_content_type(self):
        # no body at all: the Content-Type value ends where the buffer does
        for ct in ("application/json; x=", "application/json; charset=ut",
                   "application/json;charset=utf-"):
            for total in range(1018, 1030):
                data = bridge_request("/call", total, ct, fill="head")
                answer = send_raw(self.port, data)
                self.assertTrue(answer.startswith(b"HTTP/1.1 "), (ct, total, answer[:80]))
            self.alive("head-only requests with Content-Type %r" % ct)

    def test_other_services_at_the_boundary(self):
        for path in ("/hook", "/lp/open", "/sse?topic=com.x"):
            method = "GET" if path.startswith("/sse") else "POST"
            for total in range(1018, 1030):
                pre = ("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Last-Event-ID: 1\r\nAuthorization: Bearer " % (method, path))
                pad = total - len(pre) - 4
                data = (pre + "t" * pad + "\r\n\r\n").encode()
                self.assertEqual(len(data), total)
                answer = send_raw(self.port, data)
                self.assertTrue(answer.startswith(b"HTTP/1.1 "), (path, total, answer[:80]))
            self.alive("requests to %s" % path)

    def test_body_boundary_on_the_webhook_and_long_poll(self):
        for path in ("/hook", "/lp/open"):
            for total in range(1018, 1030):
                data = bridge_request(path, total, "application/json; charset=utf-8")
                answer = send_raw(self.port, data)
                self.assertTrue(answer.startswith(b"HTTP/1.1 "), (path, total, answer[:80]))
            self.alive("bodies at the boundary on %s" % path)


if __name__ == "__main__":
    unittest.main()
