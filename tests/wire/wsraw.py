"""A raw WebSocket client for wire tests: full control over handshake headers, frames
(opcode, FIN, RSV bits, masking, fragmentation) and payload bytes, valid or not.

Every read has a deadline; nothing sleeps.

permessage-deflate (RFC 7692): WS(..., deflate="permessage-deflate; ...") offers it; when the
server accepts (self.extensions is its Sec-WebSocket-Extensions answer, None without),
send() compresses each message (RSV1, raw deflate with the 00 00 FF FF tail stripped) and
recv() inflates compressed ones. send_frame(..., rsv=4) sends hand-made compressed bytes.
"""

import base64
import json
import os
import select
import socket
import struct
import time
import zlib

try:
    import cbor2
    import msgpack
except ImportError:  # pragma: no cover - installed by scripts/deps.sh
    cbor2 = msgpack = None

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class HandshakeRefused(Exception):
    def __init__(self, status, head):
        Exception.__init__(self, "handshake refused: %s" % status)
        self.status = status
        self.head = head


class Closed(Exception):
    """The server closed: code/reason from its close frame (None if the TCP closed)."""

    def __init__(self, code=None, reason=b""):
        Exception.__init__(self, "closed %s %r" % (code, reason))
        self.code = code
        self.reason = reason


class WS:
    def __init__(self, host, port, path="/ws", protocols=("wamp.2.json",), timeout=5.0,
                 extra_headers=None, connect=True, tls=None, deflate=None):
        self.host, self.port, self.path = host, port, path
        self.protocols = list(protocols) if protocols is not None else None
        self.timeout = timeout
        self.extra_headers = extra_headers or {}
        self.tls = tls  # an ssl.SSLContext: WebSocket over TLS (server name localhost)
        self.sock = None
        self.buf = b""
        self.protocol = None
        self.deflate = deflate      # the offer (a Sec-WebSocket-Extensions value), or None
        self.extensions = None      # the server's answer
        self.last_rsv = 0           # RSV bits of the first frame of the last message read
        self._z_out = self._z_in = None
        if connect:
            self.connect()

    # ------------------------------------------------------------------ handshake
    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        if self.tls:
            self.sock = self.tls.wrap_socket(self.sock, server_hostname="localhost")
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % self.path, "Host: %s:%d" % (self.host, self.port),
                 "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + key,
                 "Sec-WebSocket-Version: 13"]
        if self.protocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(self.protocols))
        if self.deflate:
            lines.append("Sec-WebSocket-Extensions: " + self.deflate)
        for k, v in self.extra_headers.items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            head = self._read_until(b"\r\n\r\n")
        except Closed:
            raise HandshakeRefused("connection closed without a response", self.buf)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise HandshakeRefused(status.decode(errors="replace"), head)
        for line in head.split(b"\r\n")[1:]:
            if line.lower().startswith(b"sec-websocket-protocol:"):
                self.protocol = line.split(b":", 1)[1].strip().decode()
            if line.lower().startswith(b"sec-websocket-extensions:"):
                self.extensions = line.split(b":", 1)[1].strip().decode()
        if self.extensions and self.extensions.startswith("permessage-deflate"):
            self._z_out = zlib.compressobj(6, zlib.DEFLATED, -15)
            self._z_in = zlib.decompressobj(-15)
        return self

    def _read_until(self, marker):
        deadline = time.monotonic() + self.timeout
        while marker not in self.buf:
            self._fill(deadline)
        i = self.buf.index(marker) + len(marker)
        head, self.buf = self.buf[:i], self.buf[i:]
        return head

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no data within %ss" % self.timeout)
        # decrypted bytes already inside the TLS layer do not wake select()
        pending = self.tls is not None and self.sock.pending()
        r, _, _ = select.select([self.sock], [], [], 0 if pending else left)
        if not r and not pending:
            raise TimeoutError("no data within %ss" % self.timeout)
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf += data

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)

    # ------------------------------------------------------------------ frames
    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, mask=True, length=None):
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload) if length is None else length
        if n < 126:
            hdr = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
        if mask:
            key = os.urandom(4)
            payload = self.masked(payload, key)
            hdr += key
        self.sock.sendall(hdr + payload)

    @staticmethod
    def masked(payload, key):
        n = len(payload)
        k = (key * (n // 4 + 1))[:n]
        return (int.from_bytes(payload, "little") ^ int.from_bytes(k, "little")).to_bytes(
            n, "little")

    def compress(self, data):
        """One message's bytes as permessage-deflate sends them (context kept)."""
        z = self._z_out.compress(data) + self._z_out.flush(zlib.Z_SYNC_FLUSH)
        assert z.endswith(b"\x00\x00\xff\xff")
        return z[:-4]

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def send_binary(self, data):
        self.send_frame(OP_BINARY, data)

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv_frame(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4, deadline)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10, deadline)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        if b1 & 0x80:
            off += 4  # servers do not mask, but tolerate it
        self._need(off + n, deadline)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        self._rsv = (b0 >> 4) & 7
        return b0 & 0x0F, bool(b0 & 0x80), payload

    # ------------------------------------------------------------------ WAMP
    @property
    def binary(self):
        return self.protocol is not None and self.protocol.split(".")[2] != "json"

    def encode(self, msg):
        if self.protocol == "wamp.2.cbor":
            return cbor2.dumps(msg)
        if self.binary:
            return msgpack.packb(msg, use_bin_type=True)
        return json.dumps(msg)

    def decode(self, opcode, payload):
        if opcode == OP_BINARY and self.protocol == "wamp.2.cbor":
            return cbor2.loads(payload)
        if opcode == OP_BINARY:
            return msgpack.unpackb(payload, raw=False, strict_map_key=False)
        return json.loads(payload.decode())

    def send(self, msg):
        data = self.encode(msg)
        if isinstance(data, str):
            data = data.encode()
        op = OP_BINARY if self.binary else OP_TEXT
        if self._z_out:
            self.send_frame(op, self.compress(data), rsv=4)
        else:
            self.send_frame(op, data)

    def recv(self, timeout=None):
        """The next WAMP message (pings answered, fragments joined); Closed on close."""
        parts, first_op = [], None
        while True:
            op, fin, payload = self.recv_frame(timeout)
            if op == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, payload[2:])
            if op != OP_CONT:
                first_op, self.last_rsv = op, self._rsv
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                if self.last_rsv & 4:
                    data = self._z_in.decompress(data + b"\x00\x00\xff\xff")
                return self.decode(first_op, data)

    def expect_close(self, timeout=None):
        """Read until the close frame (or EOF); returns the close code (None for EOF)."""
        while True:
            try:
                self.recv(timeout)
            except Closed as c:
                return c.code

    def hello(self, realm="realm1", details=None):
        self.send([1, realm, details if details is not None else {"roles": {
            "caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}}])
        return self.recv()

    def close(self):
        try:
            self.send_frame(OP_CLOSE, struct.pack("!H", 1000))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
