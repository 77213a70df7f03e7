"""A denial of service on TLS listeners: a connection wampd closes must not keep it busy.

What an attacker does: on an https:// port (the static web service here; the HTTP bridge
answers through the same code) it sends two GETs at once, the first for a file larger than
a fresh socket's send buffer, and then reads nothing and keeps the connection open. wampd
answers the first GET and closes the connection (one request per connection on TLS
listeners) through libwebsockets' TLS close, which sends close_notify and waits up to
hello_timeout (10 s) for the client's. The write throttle's timer, still armed, then
allowed reading again, and lws 4.1.6 services a connection that holds unread bytes (the
second GET) and may read in a busy loop that does nothing: about one core for the whole
10 s, each time the attacker connects again. Measured as wampd's CPU time (utime + stime
of /proc/PID/stat) over a 3 s window while four such clients wait: it must stay far below
a spinning core (before the fix: 1.5 to 2.6 s).

The same measurement for the other TLS transports: WebSocket (a close frame from the
client, a protocol violation, GOODBYE and the closing handshake, each followed by more
frames in the same write) and RawSocket (a broken frame followed by more), on a universal
TLS listener and a RawSocket-only one. These did not loop before the fix either (lws closes
its raw role without a TLS shutdown; its WebSocket role reads what arrives while closing
and wampd never stops it reading) and must not start to.

And what must keep working: each of those HTTP clients, once it reads, gets the complete
answer (every byte of the file) ended by the TLS close_notify; so does a client that
pipelines in the middle of a large answer (closing its socket at once, with those bytes
unread, would reset the connection and cut the answer's end off); wampd keeps serving.
"""
# ctest-areas: http tls websocket rawsocket

import fcntl
import os
import select
import shutil
import socket
import struct
import tempfile
import termios
import time
import unittest

from httpc import read_responses
from rsraw import RS
from tlscerts import client_context, make_certs, server_tls
from wampd_proc import WampdProcess, cpu_seconds
from wsraw import OP_CLOSE, OP_TEXT, WS

CERTS = make_certs(tempfile.mkdtemp(prefix="wampd-tlsclose-certs-"))
WEB = tempfile.mkdtemp(prefix="wampd-tlsclose-web-")
# larger than a new connection's send buffer (16 KiB), so the throttle is at work, and
# smaller than the client's receive buffer (set below), so all of it can arrive unread
FILE = os.urandom(96 * 1024)
with open(os.path.join(WEB, "file.bin"), "wb") as f:
    f.write(FILE)
with open(os.path.join(WEB, "small.txt"), "wb") as f:
    f.write(b"small\n")
BIG = os.urandom(1 << 20)
with open(os.path.join(WEB, "big.bin"), "wb") as f:
    f.write(BIG)

CONFIG = {
    "listeners": [
        {"type": "universal", "port": 0, "path": "/ws", "tls": server_tls(CERTS),
         "http": {"/": {"type": "static", "directory": WEB}}},
        {"type": "rawsocket", "port": 0, "tls": server_tls(CERTS)},
    ],
    "realms": [{"name": "realm1"}],
}
CLIENTS = 4
WINDOW = 3.0        # seconds of wall time measured
CPU_BOUND = 0.3     # seconds of CPU allowed in WINDOW (a spinning core: about WINDOW)
RCVBUF = 1 << 20


def inq(sock):
    """Bytes the kernel holds unread on sock (TLS records, not decrypted)."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def wait_inq(socks, least, timeout=10):
    """Until every socket's kernel holds at least `least` unread bytes (the client reads
    nothing, so this is what wampd sent); False at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(inq(s) >= least for s in socks):
            return True
        time.sleep(0.01)  # polling the kernel's counter, not waiting for time to pass
    return False


def wait_readable(socks, timeout=10):
    """Until every socket has something to read or was closed by wampd (the client reads
    nothing, so this says wampd answered or hung up); False at the deadline."""
    deadline = time.monotonic() + timeout
    left = list(socks)
    while left and time.monotonic() < deadline:
        ready, _, _ = select.select(left, [], [], max(0.0, deadline - time.monotonic()))
        left = [s for s in left if s not in ready]
    return not left


def tls_socket(port, rcvbuf=RCVBUF):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    # a clean end (close_notify) reads as b"", a TCP close without it raises
    return client_context(CERTS).wrap_socket(s, server_hostname="localhost",
                                             suppress_ragged_eofs=False)


def read_to_end(s, data=b"", timeout=20):
    """Everything s still sends, up to the TLS session's clean end (recv raises on a TCP
    close without close_notify, or a reset)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    raise AssertionError("no end after %d bytes" % len(data))


def ws_frame(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


JUNK_WS = b"".join(ws_frame(OP_TEXT, b"x" * 4000) for _ in range(20))
JUNK_RS = (struct.pack("!I", 4000) + b"x" * 4000) * 20


class TLSCloseSpin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=CONFIG).start()
        cls.https = int(cls.r.url_of("wss").rsplit(":", 1)[1].split("/")[0])
        cls.rss_universal = int(cls.r.url_of("rss", 0).rsplit(":", 1)[1])
        cls.rss_only = int(cls.r.url_of("rss", 1).rsplit(":", 1)[1])

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()
        shutil.rmtree(WEB, True)
        shutil.rmtree(CERTS, True)

    def cpu_in_window(self):
        before = cpu_seconds(self.r.proc.pid)
        time.sleep(WINDOW)  # the measurement window (nothing is waited for)
        return cpu_seconds(self.r.proc.pid) - before

    def assert_still_serving(self):
        s = tls_socket(self.https)
        try:
            s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            data = read_responses(s, 5, 1)
        finally:
            s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\nsmall\n"),
                        data[:200])

    def test_https_pipelined_answer_then_client_waits(self):
        socks = [tls_socket(self.https) for _ in range(CLIENTS)]
        try:
            for s in socks:
                s.sendall(b"GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                          b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            # the clients read nothing; the answers arrive in their kernels
            self.assertTrue(wait_inq(socks, len(FILE)), [inq(s) for s in socks])
            used = self.cpu_in_window()
            self.assertLess(used, CPU_BOUND, "wampd used %.2f s of CPU in %.1f s after "
                            "answering %d TLS clients that pipelined and wait"
                            % (used, WINDOW, CLIENTS))
            # reading now: the whole answer, then the TLS session's clean end
            for s in socks:
                head, _, body = read_to_end(s).partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
                self.assertIn(b"\r\nContent-Length: %d\r\n" % len(FILE), head + b"\r\n")
                self.assertEqual(body, FILE)  # nothing missing, no answer to the second GET
        finally:
            for s in socks:
                s.close()
        self.assert_still_serving()

    def test_https_answer_complete_when_pipelined_late(self):
        """The end of a connection must not cut off the answer: a client that reads slowly
        and pipelines more requests in the middle of a download (wampd is not reading
        then: the socket is full) still gets every byte and a clean end, as lws' TLS close
        reads and discards what the client sends while it waits (closing the socket with
        unread bytes would send a reset, which drops the answer's unsent end)."""
        s = tls_socket(self.https, rcvbuf=32 * 1024)
        try:
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while len(data) < len(BIG) // 4:
                chunk = s.recv(65536)
                self.assertTrue(chunk, len(data))
                data += chunk
            s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n" * 20)
            head, _, body = read_to_end(s, data).partition(b"\r\n\r\n")
        finally:
            s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
        self.assertEqual(len(body), len(BIG))
        self.assertEqual(body, BIG)

    def test_websocket_closes(self):
        hello = ws_frame(OP_TEXT, b'[1,"realm1",{"roles":{"caller":{}}}]')
        goodbye = ws_frame(OP_TEXT, b'[6,{},"wamp.close.normal"]')
        close = ws_frame(OP_CLOSE, b"\x03\xe8")
        ways = (close + JUNK_WS,                           # the client closes
                ws_frame(OP_TEXT, b"garbage") + JUNK_WS,   # wampd aborts and closes
                hello + goodbye + close + JUNK_WS)         # GOODBYE, closing handshake
        conns = []
        try:
            for way in ways:
                for _ in range(CLIENTS):
                    w = WS("127.0.0.1", self.https, tls=client_context(CERTS))
                    try:
                        w.send_raw(way)
                    except OSError:
                        pass  # wampd may have closed before all of it was sent
                    conns.append(w)
            # wampd answered each (a close frame, ABORT or GOODBYE) or closed it
            self.assertTrue(wait_readable([w.sock for w in conns]))
            used = self.cpu_in_window()
            self.assertLess(used, CPU_BOUND, "wampd used %.2f s of CPU in %.1f s after closing "
                            "%d TLS WebSocket connections" % (used, WINDOW, len(conns)))
        finally:
            for w in conns:
                w.sock.close()
        w = WS("127.0.0.1", self.https, tls=client_context(CERTS))
        try:
            self.assertEqual(w.hello()[0], 2)  # WELCOME
        finally:
            w.sock.close()

    def test_rawsocket_closes(self):
        conns = []
        try:
            for port in (self.rss_universal, self.rss_only):
                for _ in range(CLIENTS):
                    c = RS("127.0.0.1", port, tls=client_context(CERTS))
                    c.handshake("json")
                    try:
                        c.sock.sendall(struct.pack("!I", 7) + b"garbage" + JUNK_RS)
                    except OSError:
                        pass  # wampd may have closed before all of it was sent
                    conns.append(c)
            self.assertTrue(wait_readable([c.sock for c in conns]))  # wampd closed each
            used = self.cpu_in_window()
            self.assertLess(used, CPU_BOUND, "wampd used %.2f s of CPU in %.1f s after closing "
                            "%d TLS RawSocket connections" % (used, WINDOW, len(conns)))
        finally:
            for c in conns:
                c.sock.close()
        c = RS("127.0.0.1", self.rss_only, tls=client_context(CERTS))
        try:
            c.handshake("json")
            self.assertEqual(c.hello()[0], 2)  # WELCOME
        finally:
            c.sock.close()


if __name__ == "__main__":
    unittest.main()
