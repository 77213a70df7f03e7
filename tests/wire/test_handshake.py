"""The WebSocket handshake: subprotocol negotiation, path, long protocol lists (the front
door), oversized heads, plain HTTP."""

import socket
import struct
import unittest

import cbor2

from wirecase import WELCOME, HandshakeRefused, WireCase


class Handshake(WireCase):
    def refused(self, *protocols, path=None, status=None):
        with self.assertRaises(HandshakeRefused) as cm:
            self.open(*protocols, path=path) if protocols else \
                self.open_no_protocol(path=path)
        if status:
            self.assertIn(status, cm.exception.status)

    def open_no_protocol(self, path=None):
        from wsraw import WS
        return WS(self.host, self.port, path or self.path, protocols=None)

    def test_no_subprotocol_refused(self):
        self.refused(status="400")

    def test_unknown_subprotocol_refused(self):
        self.refused("wamp.2.xml", "mqtt", status="400")

    def test_json_chosen(self):
        ws = self.open("wamp.2.json")
        self.assertEqual(ws.protocol, "wamp.2.json")
        self.assertEqual(ws.hello()[0], WELCOME)
        ws.close()

    def test_msgpack_chosen(self):
        ws = self.open("wamp.2.msgpack")
        self.assertEqual(ws.protocol, "wamp.2.msgpack")
        self.assertEqual(ws.hello()[0], WELCOME)
        ws.close()

    def test_client_preference_order(self):
        ws = self.open("wamp.2.msgpack", "wamp.2.json")
        self.assertEqual(ws.protocol, "wamp.2.msgpack")
        ws.close()
        ws = self.open("wamp.2.json", "wamp.2.msgpack")
        self.assertEqual(ws.protocol, "wamp.2.json")
        ws.close()

    def test_unsupported_ones_skipped(self):
        ws = self.open("wamp.2.flatbuffers", "wamp.2.ubjson", "wamp.2.msgpack")
        self.assertEqual(ws.protocol, "wamp.2.msgpack")
        ws.close()

    def test_long_protocol_list_like_autobahn_python(self):
        # 137 bytes: libwebsockets 4.1 alone refuses anything over 127
        protos = ["wamp.2.cbor.batched", "wamp.2.cbor", "wamp.2.msgpack.batched",
                  "wamp.2.msgpack", "wamp.2.ubjson.batched", "wamp.2.ubjson",
                  "wamp.2.json.batched", "wamp.2.json"]
        self.assertGreater(len(", ".join(protos)), 127)
        ws = self.open(*protos)
        self.assertEqual(ws.protocol, "wamp.2.cbor.batched")  # the client's first choice
        hello = cbor2.dumps([1, "realm1", {"roles": {"caller": {}}}])
        ws.send_binary(struct.pack(">I", len(hello)) + hello)
        op, fin, payload = ws.recv_frame()
        (n,) = struct.unpack(">I", payload[:4])
        self.assertEqual(n, len(payload) - 4)
        self.assertEqual(cbor2.loads(payload[4:])[0], WELCOME)
        ws.close()

    def test_big_cookie_header(self):
        ws = self.open("wamp.2.json", extra_headers={"Cookie": "c=" + "x" * 3000,
                                                      "User-Agent": "y" * 500})
        self.assertEqual(ws.hello()[0], WELCOME)
        ws.close()

    def test_wrong_path_refused(self):
        self.refused("wamp.2.json", path="/other", status="404")

    def test_head_too_large_431(self):
        with self.assertRaises(HandshakeRefused) as cm:
            self.open("wamp.2.json", extra_headers={"X-Big": "z" * 9000})
        self.assertIn("431", cm.exception.status)

    def test_plain_http_get(self):
        s = socket.create_connection((self.host, self.port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 404"), data[:80])


if __name__ == "__main__":
    unittest.main()
