"""A raw WAMP-over-RawSocket client for wire tests: handshake octets, frame prefixes and
payload bytes under full control, TCP or Unix socket. Every read has a deadline."""

import json
import socket
import ssl
import struct
import time

try:
    import cbor2
    import msgpack
except ImportError:  # pragma: no cover - installed by scripts/deps.sh
    cbor2 = msgpack = None

SERIALIZERS = {"json": 1, "msgpack": 2, "cbor": 3}


class RSClosed(Exception):
    pass


class RS:
    def __init__(self, host=None, port=None, unix=None, timeout=5.0, tls=None):
        """tls: an ssl.SSLContext for RawSocket over TLS (server name localhost)."""
        if unix:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(unix)
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls:
            self.sock = tls.wrap_socket(self.sock, server_hostname="localhost")
        self.timeout = timeout
        self.buf = b""
        self.ser = None

    def recv_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no data within the deadline")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError, socket.timeout, ssl.SSLError) as e:
                if isinstance(e, socket.timeout):
                    raise TimeoutError("no data within the deadline")
                raise RSClosed()
            if not chunk:
                raise RSClosed()
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def handshake(self, serializer="json", length=15, raw=None):
        """Send the 4 handshake octets; return the router's 4 reply octets."""
        octets = raw if raw is not None else bytes([0x7F, (length << 4) | SERIALIZERS[serializer], 0, 0])
        self.sock.sendall(octets)
        reply = self.recv_exact(4)
        if reply[1] & 0x0F:
            self.ser = serializer
        return reply

    def send_frame(self, payload, ftype=0, prefix=None):
        self.sock.sendall((prefix if prefix is not None else
                           bytes([ftype]) + struct.pack(">I", len(payload))[1:]) + payload)

    def recv_frame(self, timeout=None):
        h = self.recv_exact(4, timeout)
        n = int.from_bytes(h[1:], "big") or (1 << 24 if h[0] & 0x08 else 0)
        return h[0] & 7, self.recv_exact(n, timeout)

    def encode(self, msg):
        if self.ser == "cbor":
            return cbor2.dumps(msg)
        return json.dumps(msg).encode() if self.ser == "json" else msgpack.packb(msg, use_bin_type=True)

    def send(self, msg):
        self.send_frame(self.encode(msg))

    def recv(self, timeout=None):
        while True:
            t, payload = self.recv_frame(timeout)
            if t == 0:
                if self.ser == "cbor":
                    return cbor2.loads(payload)
                return json.loads(payload) if self.ser == "json" else msgpack.unpackb(payload, raw=False)

    def expect_closed(self, timeout=None):
        """Read until the router closes the connection (returns) or the deadline (raises)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                self.recv_exact(len(self.buf) + 1, max(0.01, deadline - time.monotonic()))
            except RSClosed:
                return

    def hello(self, realm="realm1", details=None):
        self.send([1, realm, details or {"roles": {"caller": {}, "callee": {}, "publisher": {},
                                                  "subscriber": {}}}])
        return self.recv()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
