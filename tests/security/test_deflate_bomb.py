"""Compressed WebSocket messages (permessage-deflate, RFC 7692) from an untrusted peer.

wampd does not offer permessage-deflate: the extension it would use, libwebsockets 4.1.6's
lws_extension_callback_pm_deflate, aborts the whole process on crafted input. A compressed
frame (RSV1) of 20 bytes -- raw deflate of a run of zeros, cut off in the middle of a
match, the frame final -- makes it inflate until its 1 KiB output buffer is full with
input exhausted and output still pending, then apply the 00 00 FF FF trailer with 5 bytes
of room and fail `assert(priv->rx.avail_out)` (extension-permessage-deflate.c:351; Debian
builds lws with assertions). CRAFTED below is that frame. So Crossbar's
options.compression is reported and ignored (router/config/crossbar.c) and clients fall
back to uncompressed messages.

Asserted here, the way an attacker drives it:
- a client offering permessage-deflate is answered without Sec-WebSocket-Extensions, on a
  native listener and on a Crossbar transport configured with options.compression, and is
  served uncompressed (no RSV1 on what the router sends);
- compressed frames sent anyway (the crafted frame; a zip bomb, 100 MiB of zeros in ~100
  KB, from several connections at once) are refused: close 1002 (RSV1 without an
  extension; a bomb's connection may be reset before the client reads it, the router
  closing at the frame's header), the router keeps running, keeps serving a witness session, and its RSS
  stays within a bound;
- the crafted frame is shown to be the one that matters: inflating it with the same
  buffer sizes ends with input exhausted and output pending (checked with zlib here).

Whoever offers compression later (a fixed lws, or an extension of wampd's own) must turn
these into: negotiated, the crafted frame closes that connection only, the bomb is refused
with 1009 after max_message_size inflated bytes, RSS bounded.
"""
# ctest-areas: websocket limits

import os
import sys
import threading
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from wampd_proc import WampdProcess, rss_bytes  # noqa: E402
from wsraw import OP_TEXT, WS, Closed  # noqa: E402

WELCOME, PUBLISH, PUBLISHED, REGISTER, REGISTERED, CALL, RESULT = 2, 16, 17, 64, 65, 48, 50
INVOCATION, YIELD = 68, 70
MIB = 1 << 20
OFFER = "permessage-deflate; client_no_context_takeover; client_max_window_bits"
BOMB_CONNECTIONS = 8
# the router's growth while 8 connections each send a 100 MiB (inflated) message: nothing
# inflated, so what the frames' compressed bytes take at most (8 x ~100 KB) and more
RSS_GROWTH_BOUND = 24 * MIB

CONFIG = {"listeners": [{"port": 0, "max_message_size": MIB}], "realms": [{"name": "realm1"}]}
CROSSBAR = {
    "version": 2,
    "workers": [{"type": "router", "realms": [{"name": "realm1", "roles": [{
        "name": "anonymous", "permissions": [{"uri": "", "match": "prefix", "allow": {
            "call": True, "register": True, "publish": True, "subscribe": True}}]}]}],
        "transports": [{
            "type": "websocket", "endpoint": {"type": "tcp", "port": 0},
            "options": {"max_message_size": MIB, "compression": {"deflate": {
                "request_no_context_takeover": False, "request_max_window_bits": 13,
                "no_context_takeover": False, "max_window_bits": 13, "memory_level": 5}}}}]}],
}


def deflated(data):
    """data as one permessage-deflate message (raw deflate, sync flush, tail stripped)."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


# a run of zeros, its deflate stream cut after 20 bytes (inside the run's matches)
CRAFTED = deflated(b"[" + b"0" * 300000)[:20]


def bomb():
    """A PUBLISH whose argument is 100 MiB of '0': ~100 KB compressed."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [z.compress(b'[16,1,{},"com.bomb",["')]
    chunk = b"0" * MIB
    for _ in range(100):
        parts.append(z.compress(chunk))
    parts.append(z.compress(b'"]]') + z.flush(zlib.Z_SYNC_FLUSH))
    return b"".join(parts)[:-4]


BOMB = bomb()


def lws_would_abort(frame, out_chunk=1024, in_chunk=1024):
    """Whether inflating `frame` (a final frame) as lws 4.1.6 does -- input in pieces of
    in_chunk bytes, output into out_chunk bytes at a time -- ends with the input used up
    while output is still pending: then its trailer step has 5 bytes of room and asserts."""
    z = zlib.decompressobj(-15)
    for off in range(0, len(frame), in_chunk):
        data = frame[off:off + in_chunk]
        while data:
            z.decompress(data, out_chunk)
            data = z.unconsumed_tail
    return len(z.decompress(b"", 4096)) > 5


class DeflateNotOffered(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.router = WampdProcess(config=CONFIG).start()
        cls.witness = WS(cls.router.host, cls.router.port)
        assert cls.witness.hello()[0] == WELCOME
        cls.witness.send([REGISTER, 1, {}, "com.witness.echo"])
        assert cls.witness.recv()[0] == REGISTERED

    @classmethod
    def tearDownClass(cls):
        cls.witness.close()
        cls.router.stop()
        cls.router.check_sanitizers()

    def assert_witness_served(self):
        caller = WS(self.router.host, self.router.port)
        self.assertEqual(caller.hello()[0], WELCOME)
        caller.send([CALL, 7, {}, "com.witness.echo", ["still here"]])
        inv = self.witness.recv()
        self.assertEqual(inv[0], INVOCATION)
        self.witness.send([YIELD, inv[1], {}, inv[4]])
        self.assertEqual(caller.recv(), [RESULT, 7, {}, ["still here"]])
        caller.close()

    def test_offer_not_negotiated(self):
        ws = WS(self.router.host, self.router.port, deflate=OFFER)
        self.assertIsNone(ws.extensions, "the router answered with an extension")
        self.assertEqual(ws.hello()[0], WELCOME)
        self.assertEqual(ws.last_rsv, 0, "the router sent a compressed message")
        ws.send([PUBLISH, 2, {"acknowledge": True}, "com.plain", ["x" * 4096]])
        self.assertEqual(ws.recv()[0], PUBLISHED)
        ws.close()

    def test_crossbar_compression_not_negotiated(self):
        with WampdProcess(config=CROSSBAR) as r:
            r.wait_log(r"options\.compression", 5)  # the report (stderr is read by a thread)
            ws = WS(r.host, r.port, deflate=OFFER)
            self.assertIsNone(ws.extensions)
            self.assertEqual(ws.hello()[0], WELCOME)
            self.assertEqual(ws.last_rsv, 0)
            ws.close()

    def test_crafted_frame_is_what_aborts_lws(self):
        # the frame this file sends is the one lws 4.1.6's extension asserts on
        self.assertTrue(lws_would_abort(CRAFTED))
        self.assertLess(len(CRAFTED), 64)

    def test_crafted_frame_refused(self):
        ws = WS(self.router.host, self.router.port, deflate=OFFER)
        self.assertEqual(ws.hello()[0], WELCOME)
        ws.send_frame(OP_TEXT, CRAFTED, rsv=4)
        self.assertEqual(ws.expect_close(), 1002)
        self.assertTrue(self.router.alive())
        self.assert_witness_served()

    def test_bombs_refused_memory_bounded(self):
        self.assertLess(len(BOMB), 200 * 1024)
        base = rss_bytes(self.router.proc.pid)
        conns = [WS(self.router.host, self.router.port, deflate=OFFER)
                 for _ in range(BOMB_CONNECTIONS)]
        for ws in conns:
            self.assertEqual(ws.hello()[0], WELCOME)
        codes, errors = [], []

        def attack(ws):
            try:
                ws.send_frame(OP_TEXT, BOMB, rsv=4)
            except OSError:
                pass  # the router may close before it has read everything
            try:
                codes.append(ws.expect_close())
            except (OSError, Closed, TimeoutError) as e:
                errors.append(e)

        threads = [threading.Thread(target=attack, args=(ws,)) for ws in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        # each connection closed: a close frame 1002, or (the router closed at the frame's
        # header, while its bytes were still arriving) the connection reset before the
        # client read it; a router still reading would time out (an error)
        self.assertEqual(len(codes), BOMB_CONNECTIONS)
        self.assertTrue(all(c in (1002, None) for c in codes), codes)
        self.assertTrue(self.router.alive())
        growth = rss_bytes(self.router.proc.pid) - base
        self.assertLess(growth, RSS_GROWTH_BOUND, "RSS grew by %d MiB" % (growth // MIB))
        self.assert_witness_served()
        for ws in conns:
            ws.sock.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
