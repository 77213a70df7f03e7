"""WAMP-over-RawSocket over TLS on the wire (Python's ssl, certificates made by the test
with the openssl CLI): a universal TLS listener (RawSocket and WebSocket on one TLS port,
the decrypted first octet decides) and a rawsocket-only TLS listener. Handshake and
framing over TLS, client certificates and the tls authentication method, certificates
from another CA refused, what is not RawSocket closed, per-address limit (error 4).
The witness (a plain WebSocket session) keeps working through every case."""

import atexit
import os
import shutil
import socket
import ssl
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from tlscerts import client_context, make_certs, server_tls  # noqa: E402
from rsraw import RS, RSClosed  # noqa: E402
from wirecase import (ABORT, CALL, INVOCATION, PROTOCOL_VIOLATION, RESULT, WELCOME, YIELD,  # noqa: E402
                      WS, WireCase)

CERTS = make_certs(tempfile.mkdtemp(prefix="wampd-wire-tls-"))
atexit.register(shutil.rmtree, CERTS, True)

AUTH = {"tls": {"type": "static", "principals": {"device-7": {"role": "device"}}},
        "anonymous": {"type": "static", "role": "public"}}


class RawSocketTLS(WireCase):
    config = {"listeners": [{"type": "universal", "port": 0},
                            {"type": "universal", "port": 0, "tls": server_tls(CERTS),
                             "auth": AUTH},
                            {"type": "rawsocket", "port": 0, "tls": server_tls(CERTS),
                             "auth": AUTH}],
              "realms": [{"name": "realm1"}], "limits": {"max_message_size": 65536}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.universal = int(cls.router.url_of("rss", 0).rsplit(":", 1)[1])
        cls.rawonly = int(cls.router.url_of("rss", 1).rsplit(":", 1)[1])
        assert cls.router.url_of("wss").startswith("wss://127.0.0.1:%d/" % cls.universal)

    def rs(self, port, cert=None, serializer="json", length=15):
        c = RS(self.host, port, tls=client_context(CERTS, cert))
        reply = c.handshake(serializer, length)
        self.assertEqual(reply[0], 0x7F)
        self.assertEqual(reply[1] & 0x0F, {"json": 1, "msgpack": 2, "cbor": 3}[serializer])
        self.assertEqual(reply[2:], b"\x00\x00")
        return c

    def welcome(self, c):
        w = c.hello(details={"roles": {"caller": {}}, "authmethods": ["tls", "anonymous"]})
        self.assertEqual(w[0], WELCOME, w)
        return w[2]

    # ------------------------------------------------------------ sessions
    def test_session_every_serializer_both_listeners(self):
        for port in (self.universal, self.rawonly):
            for ser in ("json", "msgpack", "cbor"):
                c = self.rs(port, serializer=ser)
                details = self.welcome(c)
                self.assertEqual(details["authmethod"], "anonymous")
                c.send([CALL, 1, {}, "com.witness.echo", [ser, port]])
                inv = type(self).witness.recv()
                self.assertEqual(inv[0], INVOCATION)
                type(self).witness.send([YIELD, inv[1], {}, inv[4]])
                res = c.recv()
                self.assertEqual((res[0], res[3]), (RESULT, [ser, port]))
                c.close()

    def test_ping_pong_and_split_frames(self):
        c = self.rs(self.universal)
        self.welcome(c)
        for payload in (b"", b"p", os.urandom(3000)):
            c.send_frame(payload, ftype=1)
            self.assertEqual(c.recv_frame(), (2, payload))
        data = c.encode([CALL, 9, {}, "wamp.session.count"])
        frame = bytes([0, 0, 0, len(data)]) + data
        for i in range(len(frame)):  # one TLS record per byte
            c.sock.sendall(frame[i:i + 1])
        self.assertEqual(c.recv()[:2], [RESULT, 9])
        c.close()

    def test_large_messages_cross_tls_records(self):
        # 60 KB each way: several TLS records and lws reads per message
        c = self.rs(self.rawonly, serializer="msgpack")
        self.welcome(c)
        big = "y" * 60000
        c.send([CALL, 1, {}, "com.witness.echo", [big]])
        inv = type(self).witness.recv()
        type(self).witness.send([YIELD, inv[1], {}, inv[4]])
        res = c.recv()
        self.assertEqual((res[0], res[3]), (RESULT, [big]))
        c.close()

    def test_frame_over_the_limit(self):
        c = self.rs(self.universal)
        self.welcome(c)
        c.sock.sendall(b"\x00\x01\x00\x01")  # 65537 bytes announced
        msg = c.recv()
        self.assertEqual((msg[0], msg[2]), (ABORT, PROTOCOL_VIOLATION))
        c.expect_closed()
        c.close()

    def test_handshake_errors(self):
        for port in (self.universal, self.rawonly):
            c = RS(self.host, port, tls=client_context(CERTS))
            self.assertEqual(c.handshake(raw=b"\x7f\xf9\x00\x00"), b"\x7f\x10\x00\x00")
            c.expect_closed()
            c.close()
            c = RS(self.host, port, tls=client_context(CERTS))
            self.assertEqual(c.handshake(raw=b"\x7f\xf1\x00\x01"), b"\x7f\x30\x00\x00")
            c.expect_closed()
            c.close()

    # -------------------------------------------------- client certificates
    def test_client_certificate_selects_tls_auth(self):
        for port in (self.universal, self.rawonly):
            c = self.rs(port, cert="client")
            details = self.welcome(c)
            self.assertEqual((details["authmethod"], details["authid"], details["authrole"]),
                             ("tls", "device-7", "device"))
            c.close()

    def test_certificate_from_another_ca_refused(self):
        # same CN, other CA: the TLS handshake fails (TLS 1.3 reports it on the first read)
        for port in (self.universal, self.rawonly):
            with self.assertRaises((ssl.SSLError, RSClosed, ConnectionError)):
                c = RS(self.host, port, tls=client_context(CERTS, "rogue"))
                c.handshake()
            self.router.wait_log(r"does not verify against ca_certificates")

    def test_websocket_on_the_universal_tls_port(self):
        ws = WS(self.host, self.universal, "/ws", tls=client_context(CERTS, "client"))
        w = ws.hello(details={"roles": {"caller": {}}, "authmethods": ["tls"]})
        self.assertEqual((w[0], w[2]["authmethod"], w[2]["authid"]), (WELCOME, "tls", "device-7"))
        ws.close()

    # ---------------------------------------------- what is not RawSocket
    def test_not_rawsocket_over_tls_is_closed(self):
        # universal: a first line that is not HTTP and not 0x7F; rawsocket-only: HTTP
        for port, data in ((self.universal, b"\x16garbage\r\n\r\n"),
                           (self.rawonly, b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")):
            c = RS(self.host, port, tls=client_context(CERTS))
            c.sock.sendall(data)
            c.expect_closed()
            c.close()
        self.router.wait_log(r"not RawSocket")

    def test_plain_rawsocket_on_a_tls_port_gets_nothing(self):
        s = socket.create_connection((self.host, self.rawonly), timeout=5)
        s.sendall(b"\x7f\xf1\x00\x00")
        s.settimeout(5)
        try:
            data = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            data = b""
        self.assertNotEqual(data[:1], b"\x7f")  # no RawSocket reply in the clear
        s.close()


class RawSocketTLSLimits(WireCase):
    config = {"listeners": [{"type": "universal", "port": 0},
                            {"type": "rawsocket", "port": 0, "tls": server_tls(CERTS)}],
              "realms": [{"name": "realm1"}], "limits": {"max_sessions_per_ip": 2}}

    def test_connections_per_address(self):
        port = int(self.router.url_of("rss").rsplit(":", 1)[1])
        a = RS(self.host, port, tls=client_context(CERTS))
        self.assertEqual(a.handshake()[1] & 0x0F, 1)  # with the witness: 2 of 2
        b = RS(self.host, port, tls=client_context(CERTS))
        self.assertEqual(b.handshake(), b"\x7f\x40\x00\x00")  # error 4, over TLS
        b.expect_closed()
        b.close()
        a.close()
        # the count went down with a's close: a new connection is served again
        deadline = time.monotonic() + 5
        while True:
            c = RS(self.host, port, tls=client_context(CERTS))
            reply = c.handshake()
            c.close()
            if reply[1] & 0x0F == 1 or time.monotonic() > deadline:
                break
        self.assertEqual(reply[1] & 0x0F, 1, reply.hex())


if __name__ == "__main__":
    unittest.main()
