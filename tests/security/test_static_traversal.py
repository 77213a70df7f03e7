"""Issue #19, the static web service: no request reads a file outside the served directory.

A Crossbar web path {"type": "static", "directory": "../web"} serves files to anyone who
can reach the port. What an attacker sends: the path with dot segments in every spelling
(plain, percent-encoded in either case, half-encoded, with an encoded '/' or '\' standing
for a separator, double-encoded, overlong UTF-8), written as raw request lines so no client
normalises them; symbolic links inside the directory that point out of it (relative,
absolute, to a directory, a chain of links); the same as HEAD and Range requests and
through a directory listing; and the same over https://, where lws parses the request.
Every one must be refused (exact statuses on the plain path), the secret file next to the
served directory must appear in no answer, and the files that are meant to be served must
be (the control that fails on a router that serves nothing).

And a denial of service on TLS listeners: lws 4.1.6 re-services a connection in a busy loop
for as long as it holds bytes of a pipelined request and the answer is in progress. A
client that pipelines two GETs of a large file and then reads nothing kept wampd at full
CPU for the whole download; now it must stay near idle while that client waits.
"""
# ctest-areas: http tls crossbar

import os
import socket
import ssl
import sys
import tempfile
import time
import unittest

from httpc import read_responses
from tlscerts import make_certs
from wampd_proc import WampdProcess, cpu_seconds
from webfixture import FILES, INDEX, curl, make_node

CERTS = make_certs(tempfile.mkdtemp(prefix="wampd-trav-certs-"))
NODE = make_node(tempfile.mkdtemp(prefix="wampd-trav-"), certs=CERTS)
CACERT = os.path.join(CERTS, "ca.pem")
SECRET = NODE.secret.encode()

# a chain: an innocent-looking link to a link that leads out
os.symlink("escape.txt", os.path.join(NODE.web, "chain.txt"))
# a file far larger than the socket buffers (sparse: no disk cost)
with open(os.path.join(NODE.web, "huge.bin"), "wb") as f:
    f.truncate(256 << 20)

# raw request targets -> the exact status on a plain connection
ATTEMPTS = {
    "/../secret/secret.txt": 403,
    "/../../../../../../../../etc/passwd": 403,
    "/%2e%2e/secret/secret.txt": 403,
    "/%2E%2E/secret/secret.txt": 403,
    "/.%2e/secret/secret.txt": 403,
    "/%2e./secret/secret.txt": 403,
    "/..%2fsecret%2fsecret.txt": 403,
    "/..%2Fsecret/secret.txt": 403,
    "/sub/..%2f..%2fsecret/secret.txt": 403,
    "/%2e%2e%2f%2e%2e%2fsecret%2fsecret.txt": 403,
    "/files/%2e%2e/%2e%2e/secret/secret.txt": 403,
    "/..\\secret\\secret.txt": 403,
    "/..%5csecret%5csecret.txt": 403,
    "/%5c..%5csecret%5csecret.txt": 403,
    "/./../secret/secret.txt": 403,
    "/sub/./../../secret/secret.txt": 403,
    "/escape.txt": 403,
    "/abs_escape.txt": 403,
    "/chain.txt": 403,
    "/escape_dir/secret.txt": 403,
    "/escape_dir/": 403,
    "/escape_dir": 403,
    "/%252e%252e/secret/secret.txt": 404,       # decoded once: a name "%2e%2e"
    "/%c0%ae%c0%ae/secret/secret.txt": 404,     # overlong UTF-8 is no dot
    "/secret/secret.txt": 404,
    "/..%00/secret/secret.txt": 400,
    "/%00../secret/secret.txt": 400,
    "/escape.txt%00.html": 400,
}


def raw(port, target, method="GET", extra=b"", tls=False):
    """One request with the target exactly as given; (status, raw answer)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if tls:
        s = ssl.create_default_context(cafile=CACERT).wrap_socket(s, server_hostname="localhost")
    try:
        s.sendall(b"%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n"
                  % (method.encode(), target.encode("latin-1"), extra))
        data = read_responses(s, 5, None)
    finally:
        s.close()
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0, data


class StaticTraversal(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=NODE.config).start()
        cls.port = cls.r.port
        cls.tls_port = int(cls.r.url_of("wss").rsplit(":", 1)[1].split("/")[0])

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()

    def test_served_files_are_served(self):
        """The control: what is meant to be served is."""
        for tls, port in ((False, self.port), (True, self.tls_port)):
            st, data = raw(port, "/", tls=tls)
            self.assertEqual(st, 200, tls)
            self.assertTrue(data.endswith(b"\r\n\r\n" + INDEX), tls)
            st, data = raw(port, "/inlink.css", tls=tls)  # a link that stays inside
            self.assertEqual(st, 200, tls)
            self.assertTrue(data.endswith(FILES["style.css"]), tls)

    def test_traversal_plain(self):
        for target, want in ATTEMPTS.items():
            for method, extra in (("GET", b""), ("HEAD", b""), ("GET", b"Range: bytes=0-\r\n")):
                st, data = raw(self.port, target, method, extra)
                self.assertEqual(st, want, (target, method, extra, data[:200]))
                self.assertNotIn(SECRET, data, target)
        # still serving
        self.assertEqual(raw(self.port, "/app.js")[0], 200)

    def test_traversal_tls(self):
        """lws parses the request on a TLS listener (it decodes and resolves dot segments
        itself, and ends the path at a decoded NUL: "/%00../x" arrives as "/", the index);
        whatever reaches the service must be refused the same way."""
        for target in ATTEMPTS:
            st, data = raw(self.tls_port, target, tls=True)
            self.assertNotIn(SECRET, data, target)
            if st == 200:  # only where lws cut the path at the NUL: the index
                self.assertTrue("%00" in target and data.endswith(INDEX), (target, data))
            else:  # 0: lws hung up without an answer
                self.assertIn(st, (0, 400, 403, 404), (target, data[:200]))
            st, _, body = curl("https://localhost:%d%s" % (self.tls_port, target),
                               cacert=CACERT)
            self.assertNotIn(SECRET, body, target)
            self.assertTrue(st in (0, 400, 403, 404) or ("%00" in target and body == INDEX),
                            (target, st))

    def test_listing_shows_only_the_directory(self):
        st, data = raw(self.port, "/files/")
        self.assertEqual(st, 200)
        self.assertNotIn(b"secret", data)
        for target in ("/files/../", "/files/%2e%2e/", "/files/..%2f"):
            st, data = raw(self.port, target)
            self.assertEqual(st, 403, target)
            self.assertNotIn(b"escape.txt", data, target)

    def test_tls_pipelining_slow_reader_no_busy_loop(self):
        s = socket.create_connection(("127.0.0.1", self.tls_port), timeout=5)
        s = ssl.create_default_context(cafile=CACERT).wrap_socket(s, server_hostname="localhost")
        try:
            s.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200 "))
            # the client now reads nothing: wampd fills the socket and must then wait
            # idle (before: a busy loop, about one core for as long as the client waits)
            window = 2.0
            before = cpu_seconds(self.r.proc.pid)
            time.sleep(window)  # the measurement window (nothing is waited for)
            used = cpu_seconds(self.r.proc.pid) - before
            self.assertLess(used, 0.3 * window, "wampd used %.2f s of CPU in %.1f s while a "
                            "TLS client waited with a pipelined request" % (used, window))
        finally:
            s.close()
        self.assertEqual(raw(self.tls_port, "/app.js", tls=True)[0], 200)


if __name__ == "__main__":
    unittest.main()
