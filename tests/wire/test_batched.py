"""WAMP-over-Batched-WebSocket on the wire (wamp.2.json.batched, wamp.2.msgpack.batched,
wamp.2.cbor.batched): several messages per WebSocket message in both directions, batched
and unbatched sessions talking to each other, and the faults (empty batch, JSON message
without its separator, length beyond the message) answered with ABORT."""

import json
import struct
import unittest

import cbor2
import msgpack

from wirecase import (ABORT, CALL, EVENT, PROTOCOL_VIOLATION, PUBLISH, RESULT, SUBSCRIBE,
                      SUBSCRIBED, WELCOME, WireCase)
from wsraw import OP_BINARY, OP_TEXT

CODECS = {
    "json": (lambda m: json.dumps(m).encode(), lambda b: json.loads(b)),
    "msgpack": (lambda m: msgpack.packb(m, use_bin_type=True),
                lambda b: msgpack.unpackb(b, raw=False)),
    "cbor": (cbor2.dumps, cbor2.loads),
}


class Batched(WireCase):
    config = {"realms": [{"name": "realm1"}]}

    def open_batched(self, ser):
        ws = self.open("wamp.2.%s.batched" % ser)
        self.assertEqual(ws.protocol, "wamp.2.%s.batched" % ser)
        ws.ser = ser
        ws.inbox = []
        return ws

    def send_batch(self, ws, msgs):
        enc = CODECS[ws.ser][0]
        if ws.ser == "json":
            ws.send_text(b"".join(enc(m) + b"\x1e" for m in msgs).decode())
        else:
            ws.send_binary(b"".join(struct.pack(">I", len(enc(m))) + enc(m) for m in msgs))

    def recv_batched(self, ws):
        """The next message; whole batches are split into ws.inbox."""
        dec = CODECS[ws.ser][1]
        while not ws.inbox:
            op, fin, payload = ws.recv_frame()
            self.assertTrue(fin)
            self.assertEqual(op, OP_TEXT if ws.ser == "json" else OP_BINARY)
            if ws.ser == "json":
                parts = payload.split(b"\x1e")
                self.assertEqual(parts[-1], b"", "a JSON batch ends with 0x1E")
                ws.inbox += [dec(p) for p in parts[:-1]]
            else:
                off = 0
                while off < len(payload):
                    n = struct.unpack(">I", payload[off:off + 4])[0]
                    ws.inbox.append(dec(payload[off + 4:off + 4 + n]))
                    off += 4 + n
                self.assertEqual(off, len(payload))
            self.assertGreater(len(ws.inbox), 0, "empty batch from the router")
        return ws.inbox.pop(0)

    def test_batches_both_ways(self):
        for ser in CODECS:
            with self.subTest(ser):
                ws = self.open_batched(ser)
                self.send_batch(ws, [[1, "realm1", {"roles": {"caller": {}}}]] +
                                [[CALL, i, {}, "wamp.session.count"] for i in range(1, 21)])
                self.assertEqual(self.recv_batched(ws)[0], WELCOME)
                results = [self.recv_batched(ws) for _ in range(20)]
                self.assertEqual([r[0] for r in results], [RESULT] * 20)
                self.assertEqual([r[1] for r in results], list(range(1, 21)))
                ws.close()

    def test_batched_and_unbatched_together(self):
        plain = self.session("wamp.2.msgpack")
        plain.send([SUBSCRIBE, 1, {}, "com.batch.t"])
        self.assertEqual(plain.recv()[0], SUBSCRIBED)
        for ser in CODECS:
            pub = self.open_batched(ser)
            self.send_batch(pub, [[1, "realm1", {}]] +
                            [[PUBLISH, i, {}, "com.batch.t", [ser, i]] for i in range(1, 4)])
            self.assertEqual(self.recv_batched(pub)[0], WELCOME)
            for i in range(1, 4):
                ev = plain.recv()
                self.assertEqual((ev[0], ev[4]), (EVENT, [ser, i]))
            pub.close()
        # and the other way: a batched subscriber receives EVENTs framed as batches
        sub = self.open_batched("json")
        self.send_batch(sub, [[1, "realm1", {}], [SUBSCRIBE, 1, {}, "com.batch.u"]])
        self.assertEqual(self.recv_batched(sub)[0], WELCOME)
        self.assertEqual(self.recv_batched(sub)[0], SUBSCRIBED)
        plain.send([PUBLISH, 9, {}, "com.batch.u", [b"\x00\x01"]])
        ev = self.recv_batched(sub)
        self.assertEqual((ev[0], ev[4]), (EVENT, ["\x00AAE="]))
        sub.close()
        plain.close()

    def test_autobahn_python_separator(self):
        # Autobahn|Python separates JSON batches with 0x18 (it reads the spec's "\30" as
        # octal): accepted, and answered with the same separator
        ws = self.open_batched("json")
        ws.send_text("".join(json.dumps(m) + "\x18" for m in
                             [[1, "realm1", {}], [CALL, 1, {}, "wamp.session.count"]]))
        frames = b""
        while frames.count(b"\x18") < 2:
            frames += ws.recv_frame()[2]
        self.assertNotIn(b"\x1e", frames)
        msgs = [json.loads(p) for p in frames.split(b"\x18")[:-1]]
        self.assertEqual([m[0] for m in msgs], [WELCOME, RESULT])
        ws.close()

    def assert_batch_abort(self, ws):
        msg = self.recv_batched(ws)
        self.assertEqual((msg[0], msg[2]), (ABORT, PROTOCOL_VIOLATION), msg)
        self.assertIsNotNone(ws.expect_close())
        ws.close()

    def test_faults(self):
        for ser in CODECS:
            with self.subTest(ser, fault="empty"):
                ws = self.open_batched(ser)
                self.send_batch(ws, [[1, "realm1", {}]])
                self.assertEqual(self.recv_batched(ws)[0], WELCOME)
                if ser == "json":
                    ws.send_text("")
                else:
                    ws.send_binary(b"")
                self.assert_batch_abort(ws)
            with self.subTest(ser, fault="framing"):
                ws = self.open_batched(ser)
                self.send_batch(ws, [[1, "realm1", {}]])
                self.assertEqual(self.recv_batched(ws)[0], WELCOME)
                if ser == "json":
                    ws.send_text('[48, 1, {}, "wamp.session.count"]')  # no 0x1E
                else:
                    ws.send_binary(b"\x00\x00\x01\x00" + CODECS[ser][0]([48, 1, {}, "x"]))
                self.assert_batch_abort(ws)


if __name__ == "__main__":
    unittest.main()
