"""WAMP-over-RawSocket on the wire: the handshake (every error code), framing (PING/PONG,
split reads, limits, reserved bits), the client's own length limit, RawSocket and WebSocket
sessions talking to each other, a Unix domain socket listener, and per-address limits.
The witness (a WebSocket session) keeps working through every case."""

import os
import tempfile
import time
import unittest

from rsraw import RS, RSClosed
from wirecase import (ABORT, CALL, INVOCATION, PROTOCOL_VIOLATION, REGISTER, REGISTERED,
                      RESULT, WELCOME, YIELD, HandshakeRefused, WireCase)


class RawSocket(WireCase):
    config = {"realms": [{"name": "realm1"}], "limits": {"max_message_size": 65536}}

    def rs(self, serializer="json", length=15):
        c = RS(self.host, self.port)
        reply = c.handshake(serializer, length)
        self.assertEqual(reply[0], 0x7F)
        self.assertEqual(reply[1] & 0x0F, {"json": 1, "msgpack": 2, "cbor": 3}[serializer],
                         reply.hex())
        self.assertEqual(reply[2:], b"\x00\x00")
        return c

    def session(self, serializer="json", length=15):
        c = self.rs(serializer, length)
        w = c.hello()
        self.assertEqual(w[0], WELCOME, w)
        return c

    def assert_handshake_error(self, octets, code):
        c = RS(self.host, self.port)
        reply = c.handshake(raw=octets)
        self.assertEqual(reply, bytes([0x7F, code << 4, 0, 0]), reply.hex())
        c.expect_closed()
        c.close()

    # -------------------------------------------------------------- handshake
    def test_handshake_every_serializer(self):
        for ser in ("json", "msgpack", "cbor"):
            c = self.rs(ser)
            # the router's own limit: 64 KiB = 2^(9+7)
            c2 = RS(self.host, self.port)
            self.assertEqual(c2.handshake(ser)[1] >> 4, 7)
            c2.close()
            self.assertEqual(c.hello()[0], WELCOME)
            c.close()

    def test_handshake_errors(self):
        self.assert_handshake_error(b"\x7f\xf0\x00\x00", 1)      # serializer 0: illegal
        for s in range(4, 16):                                    # undefined serializers
            self.assert_handshake_error(bytes([0x7F, 0xF0 | s, 0, 0]), 1)
        self.assert_handshake_error(b"\x7f\xf1\x00\x01", 3)      # reserved bits
        self.assert_handshake_error(b"\x7f\xf1\x80\x00", 3)

    def test_handshake_in_pieces(self):
        c = RS(self.host, self.port)
        for b in (b"\x7f", b"\xf1", b"\x00", b"\x00"):
            c.sock.sendall(b)
            time.sleep(0.01)  # pacing the bytes apart, not synchronisation
        self.assertEqual(c.recv_exact(4)[1], 0x71)
        c.ser = "json"
        self.assertEqual(c.hello()[0], WELCOME)
        c.close()

    # ------------------------------------------------------------------ frames
    def test_ping_pong(self):
        c = self.session()
        for payload in (b"", b"x", os.urandom(1000)):
            c.send_frame(payload, ftype=1)
            t, back = c.recv_frame()
            self.assertEqual((t, back), (2, payload))
        c.send_frame(b"ignored", ftype=2)  # an unsolicited PONG is fine
        c.send([CALL, 1, {}, "wamp.session.count"])
        self.assertEqual(c.recv()[0], RESULT)
        c.close()

    def test_ping_before_hello(self):
        c = self.rs()
        c.send_frame(b"early", ftype=1)
        self.assertEqual(c.recv_frame(), (2, b"early"))
        self.assertEqual(c.hello()[0], WELCOME)
        c.close()

    def test_split_frames(self):
        c = self.session()
        data = c.encode([CALL, 7, {}, "wamp.session.count"])
        frame = bytes([0, 0, 0, len(data)]) + data
        two = frame + frame.replace(b"7", b"8", 1)
        for i in range(len(two)):
            c.sock.sendall(two[i:i + 1])
        self.assertEqual(c.recv()[1], 7)
        self.assertEqual(c.recv()[1], 8)
        c.close()

    def test_many_frames_in_one_write(self):
        c = self.session("msgpack")
        c.sock.sendall(b"".join(
            bytes([0]) + len(c.encode([CALL, i, {}, "wamp.session.count"])).to_bytes(3, "big")
            + c.encode([CALL, i, {}, "wamp.session.count"]) for i in range(1, 51)))
        self.assertEqual([c.recv()[1] for _ in range(50)], list(range(1, 51)))
        c.close()

    def test_reserved_frame_bits(self):
        for prefix in (b"\x10\x00\x00\x02", b"\x03\x00\x00\x02", b"\x07\x00\x00\x02",
                       b"\x08\x00\x00\x02"):
            c = self.session()
            c.send_frame(b"[]", prefix=prefix)
            msg = c.recv()
            self.assertEqual((msg[0], msg[2]), (ABORT, PROTOCOL_VIOLATION), prefix.hex())
            c.expect_closed()
            c.close()

    def test_frame_over_the_limit(self):
        c = self.session()
        c.sock.sendall(b"\x00\x01\x00\x01")  # 65537 bytes announced, nothing sent
        msg = c.recv()
        self.assertEqual(msg[0], ABORT)
        self.assertEqual(msg[2], PROTOCOL_VIOLATION)  # as over WebSocket (close 1009 there)
        c.expect_closed()
        c.close()

    def test_malformed_message(self):
        c = self.session()
        c.send_frame(b"[48, 1, {}, ")
        msg = c.recv()
        self.assertEqual((msg[0], msg[2]), (ABORT, PROTOCOL_VIOLATION))
        c.close()

    # ------------------------------------------------------------- routing
    def test_rawsocket_caller_websocket_callee(self):
        callee = WireCase.session(self)  # WebSocket, JSON
        callee.send([REGISTER, 1, {}, "com.mixed.echo"])
        self.assertEqual(callee.recv()[0], REGISTERED)
        for ser in ("json", "msgpack"):
            c = self.session(ser)
            c.send([CALL, 5, {}, "com.mixed.echo", [1, "two", {"3": [4]}]])
            inv = callee.recv()
            self.assertEqual(inv[0], INVOCATION)
            callee.send([YIELD, inv[1], {}, inv[4]])
            res = c.recv()
            self.assertEqual(res[0], RESULT)
            self.assertEqual(res[3], [1, "two", {"3": [4]}])
            c.close()
        callee.close()

    def test_client_length_limit_respected(self):
        # the client accepts 1 KiB (L = 1): a larger RESULT is never sent to it; the
        # router closes the connection and says why in its log
        callee = self.session("msgpack")
        callee.send([REGISTER, 1, {}, "com.big"])
        self.assertEqual(callee.recv()[0], REGISTERED)
        small = self.session("json", length=1)
        small.send([CALL, 1, {}, "com.big"])
        inv = callee.recv()
        callee.send([YIELD, inv[1], {}, ["x" * 2000]])
        small.expect_closed()
        small.close()
        self.router.wait_log(r"over the client's RawSocket limit")
        callee.close()

    def test_websocket_still_served(self):
        ws = WireCase.session(self)
        ws.close()


class RawSocketOnly(WireCase):
    """A listener of type rawsocket next to the witness's WebSocket listener."""
    sock_dir = tempfile.mkdtemp(prefix="wampd-rs-")
    unix_path = os.path.join(sock_dir, "wampd.sock")
    config = {"listeners": [{"type": "universal", "port": 0},
                            {"type": "rawsocket", "unix": unix_path}],
              "realms": [{"name": "realm1"}]}

    def test_unix_socket(self):
        for ser in ("json", "msgpack"):
            c = RS(unix=self.unix_path)
            self.assertEqual(c.handshake(ser)[1] & 0x0F, {"json": 1, "msgpack": 2}[ser])
            self.assertEqual(c.hello()[0], WELCOME)
            c.send([CALL, 1, {}, "com.witness.echo", ["via unix"]])
            inv = type(self).witness.recv()
            type(self).witness.send([YIELD, inv[1], {}, inv[4]])
            self.assertEqual(c.recv()[3], ["via unix"])
            c.close()

    def test_unix_socket_refuses_http(self):
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(self.unix_path)
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"400", s.recv(4096))
        s.close()


class RawSocketLimits(WireCase):
    config = {"realms": [{"name": "realm1"}], "limits": {"max_sessions_per_ip": 2}}

    def test_connections_per_address(self):
        a = RS(self.host, self.port)
        self.assertEqual(a.handshake()[1] & 0x0F, 1)  # with the witness: 2 of 2
        b = RS(self.host, self.port)
        self.assertEqual(b.handshake(), b"\x7f\x40\x00\x00")  # error 4
        b.close()
        a.close()


if __name__ == "__main__":
    unittest.main()
