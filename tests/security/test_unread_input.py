"""What a client sends while it does not read is not buffered without bound, and does not
keep wampd busy: memory is bounded by bytes, on TLS listeners too.

The attack: a client makes wampd write a lot to it -- a large static file over HTTPS or
plain HTTP, or EVENTs of its own acknowledged publications over WebSocket and RawSocket
(plain and TLS) -- reads it very slowly or not at all, and meanwhile sends as much as it
can: pipelined requests, garbage, more publications. The suspicion was that some layer
takes those bytes in anyway while the answer waits for the client: libwebsockets' input
list (lws_buflist) on the HTTP role, where the TLS listener's requests are parsed by lws,
not by wampd's pipelined-bytes limit; the TLS library's read-ahead; the send queue.

Measured: the router's RSS (peak of /proc/PID/status VmRSS, sampled while it happens)
against what it was before, with four such clients per case, each trying to send up to
FLOOD_MAX bytes. Every case is bounded: wampd (or lws under it) stops reading and the
kernel's buffers, then TCP, hold the client back (HTTPS: lws holds at most one read of the
next request and reads no more until it is used; plain HTTP: wampd's pipelined-bytes
limit, then the fix below; RawSocket: lws reads nothing while it holds a partial write), or
the connection is closed (WebSocket: the send queue's slow-consumer limit). A router that
buffered would take the client's bytes at loopback speed: RSS_BOUND is far below that.

Found on the way, and fixed (router/net/lwsconn.h, lwsconn_raw_wrote): on lws' raw role
(RawSocket, plain or TLS, and plain HTTP) lws 4.1.6 reads nothing while it holds a
partial write but leaves the connection in poll's input set, so a client with unread
bytes waiting (a RawSocket session that publishes and never reads; a plain download that
is not read, with one pipelined request behind it) kept wampd at a full core -- before the
fix 4.9 s of CPU in 5 s for four RawSocket clients, 3.0 s in 3 s for two HTTP downloads;
a RawSocket session could do that for as long as it liked. Measured here as wampd's CPU
time (utime + stime) over WINDOW seconds once the clients are held back; each case must
stay far below a spinning core. (A client that reads slowly gets its share of CPU from
wampd's write throttle on the HTTPS path, by design: router/net/http.c, http_throttle.)

Under ASan the allocator's quarantine is made small, or freed buffers would count as
growth.
"""
# ctest-areas: http tls websocket rawsocket limits

import fcntl
import json
import os
import select
import shutil
import socket
import ssl
import struct
import sys
import tempfile
import termios
import time
import unittest

from rsraw import RS
from tlscerts import client_context, make_certs, server_tls
from wampd_proc import WampdProcess, cpu_seconds, rss_bytes
from wsraw import WS

MIB = 1 << 20
CERTS = make_certs(tempfile.mkdtemp(prefix="wampd-unread-certs-"))
WEB = tempfile.mkdtemp(prefix="wampd-unread-web-")
with open(os.path.join(WEB, "big.bin"), "wb") as f:
    f.truncate(1 << 30)  # sparse: 1 GiB to answer, no disk used
with open(os.path.join(WEB, "small.txt"), "wb") as f:
    f.write(b"small\n")

CONFIG = {
    "listeners": [
        {"type": "universal", "port": 0, "path": "/ws", "tls": server_tls(CERTS),
         "http": {"/": {"type": "static", "directory": WEB}}},
        {"type": "universal", "port": 0, "path": "/ws",
         "http": {"/": {"type": "static", "directory": WEB}}},
    ],
    "realms": [{"name": "realm1"}],
}
CLIENTS = 4
FLOOD_MAX = 64 * MIB     # what each client tries to send
FLOOD_S = 4.0            # ... for at most this long
STALL_S = 0.5            # no client could send for this long: wampd takes nothing more
# what four clients may make the router grow by (send queues of 4 MiB, pipelined bytes of
# about 1 MiB, buffers of a few KiB); a router that buffered what it is sent would grow by
# about what the clients sent, up to 4 x FLOOD_MAX
RSS_BOUND = 40 * MIB
WINDOW = 2.0             # seconds of wall time the CPU is measured over
CPU_BOUND = 0.3          # seconds of CPU allowed in WINDOW (a spinning core: about WINDOW)

GET_BIG = b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
PIPELINED = (GET_BIG * 2000)[:64 * 1024]
GARBAGE = os.urandom(64 * 1024)
# an acknowledged PUBLISH to a topic the client itself is subscribed to: wampd answers each
# with PUBLISHED and an EVENT as large as the publication
PUBLISH = json.dumps([16, 7, {"acknowledge": True, "exclude_me": False}, "com.flood",
                      ["x" * 60000]]).encode()
WS_PUBLISH = bytes([0x81, 0xFF]) + struct.pack("!Q", len(PUBLISH)) + b"\0\0\0\0" + PUBLISH
RS_PUBLISH = struct.pack("!I", len(PUBLISH)) + PUBLISH

NOT_NOW = (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError)


def inq(sock):
    """Bytes the kernel holds unread on sock."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def wait_inq(socks, least, timeout=10):
    """Until every socket's kernel holds at least `least` unread bytes (what wampd sent
    them: they read nothing); False at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(inq(s) >= least for s in socks):
            return True
        time.sleep(0.01)  # polling the kernel's counter, not waiting for time to pass
    return False


def send_queue(local_port, remote_port):
    """Bytes the kernel holds unsent on the IPv4 TCP socket 127.0.0.1:local_port <->
    :remote_port (/proc/net/tcp), or None."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if (int(fields[1].split(":")[1], 16) == local_port and
                    int(fields[2].split(":")[1], 16) == remote_port):
                return int(fields[4].split(":")[0], 16)
    return None


def wait_send_queue_full(sides, timeout=10):
    """Until the router's socket of each (router port, client port) holds unsent bytes and
    took nothing more in three looks 0.1 s apart (its send buffer is full: wampd's next
    write waits in lws); False at the deadline."""
    deadline = time.monotonic() + timeout
    seen, same = None, 0
    while time.monotonic() < deadline:
        now = [send_queue(*side) for side in sides]
        same = same + 1 if now == seen and all(now) else 0
        if same >= 3:
            return True
        seen = now
        time.sleep(0.1)  # polling the kernel's counters
    return False


def port_of(url):
    return int(url.rsplit(":", 1)[1].split("/")[0])


class Flood:
    """Clients sending `data` over and over (non-blocking) and reading `read_n` bytes every
    `read_every` seconds (None: never), until each sent FLOOD_MAX or was closed, or (when
    they do not read) none could send for STALL_S, or FLOOD_S passed; the router's peak RSS
    sampled meanwhile."""

    def __init__(self, pid, socks, data, read_every=None, read_n=4096):
        self.pid, self.socks, self.data = pid, socks, data
        self.read_every, self.read_n = read_every, read_n
        self.sent = [0] * len(socks)
        self.got = [0] * len(socks)
        self.closed = [None] * len(socks)
        self.base = rss_bytes(pid)
        self.peak = self.base

    def sample(self):
        self.peak = max(self.peak, rss_bytes(self.pid))

    def run(self):
        for s in self.socks:
            s.setblocking(False)
        now = time.monotonic()
        end, last_sent, next_read, next_rss = now + FLOOD_S, now, now, now
        # a client that reads makes room for more: it goes on until FLOOD_S
        while now < end and (self.read_every is not None or now - last_sent < STALL_S):
            live = [i for i, s in enumerate(self.socks)
                    if self.closed[i] is None and self.sent[i] < FLOOD_MAX]
            if not live:
                break
            _, w, _ = select.select([], [self.socks[i] for i in live], [], 0.01)
            for i in live:
                if self.socks[i] not in w:
                    continue
                try:
                    self.sent[i] += self.socks[i].send(self.data)
                    last_sent = time.monotonic()
                except NOT_NOW:
                    pass
                except OSError as e:
                    self.closed[i] = type(e).__name__
            now = time.monotonic()
            if self.read_every is not None and now >= next_read:
                next_read = now + self.read_every
                for i in live:
                    self.read_some(i)
            if now >= next_rss:
                next_rss = now + 0.05
                self.sample()
        self.sample()
        return self

    def read_some(self, i):
        try:
            d = self.socks[i].recv(self.read_n)
            if not d:
                self.closed[i] = "EOF"
            self.got[i] += len(d)
        except NOT_NOW:
            pass
        except OSError as e:
            self.closed[i] = type(e).__name__

    @property
    def growth(self):
        return self.peak - self.base

    def describe(self, what):
        return ("%s: clients sent %s MiB, read %s KiB, closed by wampd: %s; router RSS "
                "growth (peak) %.1f MiB" % (what, [round(n / MIB, 1) for n in self.sent],
                                            [n // 1024 for n in self.got],
                                            [c or "no" for c in self.closed],
                                            self.growth / MIB))


class UnreadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        asan = os.environ.get("ASAN_OPTIONS", "detect_leaks=1")
        cls.r = WampdProcess(config=CONFIG, env={
            "ASAN_OPTIONS": asan + ":quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
        }).start()
        cls.pid = cls.r.proc.pid
        cls.tls_port = port_of(cls.r.url_of("wss"))
        cls.plain_port = port_of(cls.r.url_of("ws"))

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()
        shutil.rmtree(WEB, True)
        shutil.rmtree(CERTS, True)

    def setUp(self):
        self.socks = []

    def tearDown(self):
        self.close_all()
        self.assertTrue(self.r.alive())
        self.assert_still_serving()

    # ------------------------------------------------------------------ helpers
    def close_all(self):
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        self.socks = []

    def tcp(self, tls, rcvbuf=32 * 1024):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(5)
        s.connect(("127.0.0.1", self.tls_port if tls else self.plain_port))
        if tls:
            s = client_context(CERTS).wrap_socket(s, server_hostname="localhost")
        self.socks.append(s)
        return s

    def downloads(self, tls):
        socks = [self.tcp(tls) for _ in range(CLIENTS)]
        for s in socks:
            s.sendall(GET_BIG)
        return socks

    def subscribed(self, transport, tls):
        """CLIENTS sessions subscribed to com.flood; their sockets."""
        ctx = client_context(CERTS) if tls else None
        port = self.tls_port if tls else self.plain_port
        socks = []
        for _ in range(CLIENTS):
            if transport == "ws":
                c = WS("127.0.0.1", port, tls=ctx)
            else:
                c = RS("127.0.0.1", port, tls=ctx)
                c.handshake("json")
            self.socks.append(c.sock)
            self.assertEqual(c.hello()[0], 2)  # WELCOME
            c.send([32, 1, {}, "com.flood"])
            self.assertEqual(c.recv()[0], 33)  # SUBSCRIBED
            socks.append(c.sock)
        return socks

    def cpu_in_window(self, flood):
        before = cpu_seconds(self.pid)
        deadline = time.monotonic() + WINDOW
        while time.monotonic() < deadline:  # the measurement window, RSS sampled in it
            flood.sample()
            time.sleep(0.05)
        return cpu_seconds(self.pid) - before

    def check(self, what, flood, cpu=True):
        used = self.cpu_in_window(flood) if cpu else None
        sys.stderr.write(flood.describe(what) +
                         ("; CPU %.2f s in %.1f s after" % (used, WINDOW) if cpu else "") + "\n")
        self.assertLess(flood.growth, RSS_BOUND, flood.describe(what))
        if cpu:
            self.assertLess(used, CPU_BOUND, "%s: wampd used %.2f s of CPU in %.1f s while "
                            "the clients wait" % (what, used, WINDOW))

    def assert_still_serving(self):
        for tls in (True, False):
            s = socket.create_connection(("127.0.0.1", self.tls_port if tls else self.plain_port),
                                         timeout=5)
            if tls:
                s = client_context(CERTS).wrap_socket(s, server_hostname="localhost")
            try:
                s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while not data.endswith(b"\r\n\r\nsmall\n"):
                    chunk = s.recv(4096)
                    self.assertTrue(chunk, data)
                    data += chunk
                self.assertTrue(data.startswith(b"HTTP/1.1 200 "), data[:200])
            finally:
                s.close()

    # ------------------------------------------------------------------ HTTP
    def test_https_slow_reader_pipelines(self):
        """lws parses the TLS listener's requests: what it reads past a request waits in
        its input list; it must not keep reading into it while the answer is written."""
        for name, data in (("pipelined requests", PIPELINED), ("garbage", GARBAGE)):
            with self.subTest(name):
                f = Flood(self.pid, self.downloads(True), data, read_every=0.02).run()
                self.check("https, slow reader sending " + name, f, cpu=False)
                self.close_all()

    def test_https_unread_pipelines(self):
        f = Flood(self.pid, self.downloads(True), PIPELINED).run()
        self.check("https, no reading, pipelined requests", f)

    def test_http_slow_reader_pipelines(self):
        for name, data in (("pipelined requests", PIPELINED), ("garbage", GARBAGE)):
            with self.subTest(name):
                f = Flood(self.pid, self.downloads(False), data, read_every=0.02).run()
                self.check("http, slow reader sending " + name, f, cpu=False)
                self.close_all()

    def test_http_unread_pipelines(self):
        f = Flood(self.pid, self.downloads(False), PIPELINED).run()
        self.check("http, no reading, pipelined requests", f)

    def test_http_unread_download_then_one_request(self):
        """The download fills the socket, then one pipelined request (far below the
        pipelined-bytes limit) waits unread in wampd's kernel: wampd must not spin on it
        (before the fix: one core for as long as the download stalls, 30 s)."""
        socks = self.downloads(False)
        self.assertTrue(wait_inq(socks, 16 * 1024), [inq(s) for s in socks])
        router_side = [(self.plain_port, s.getsockname()[1]) for s in socks]
        self.assertTrue(wait_send_queue_full(router_side), router_side)
        for s in socks:
            s.sendall(GET_BIG)
        f = Flood(self.pid, socks, b"")
        f.sample()
        self.check("http, no reading, a full socket and one pipelined request", f)

    # ------------------------------------------------------------------ WAMP sessions
    def test_websocket_publishes_unread(self):
        for tls in (False, True):
            with self.subTest(tls=tls):
                f = Flood(self.pid, self.subscribed("ws", tls), WS_PUBLISH).run()
                self.check("%s, no reading, acknowledged publications"
                           % ("wss" if tls else "ws"), f)
                self.close_all()

    def test_rawsocket_publishes_unread(self):
        for tls in (False, True):
            with self.subTest(tls=tls):
                f = Flood(self.pid, self.subscribed("rs", tls), RS_PUBLISH).run()
                self.check("%s, no reading, acknowledged publications"
                           % ("rss" if tls else "rs"), f)
                self.close_all()


if __name__ == "__main__":
    unittest.main()
