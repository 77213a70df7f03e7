"""Long-poll transport at the HTTP level (MessagePack, batched JSON, errors, idle timeout,
router shutdown) and the SSE limits (method, slow reader disconnected)."""

import json
import os
import socket
import sys
import time
import unittest

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from httpc import post_json, request  # noqa: E402
from httpcase import RouterCase  # noqa: E402

CONFIG = {
    "listeners": [{"port": 0, "path": "/ws", "http": {
        "/lp": {"type": "longpoll", "poll_timeout": 1, "idle_timeout": 2, "max_transports": 3},
        "/sse": {"type": "sse", "realm": "realm1", "heartbeat": 0},
        "/publish": {"type": "publisher", "realm": "realm1"},
    }}],
    "realms": [{"name": "realm1"}],
    "limits": {"send_queue_bytes": 65536},
}


class LongPoll(RouterCase):
    CONFIG = CONFIG

    def open(self, protocol):
        st, body = post_json(self.port, "/lp/open", {"protocols": ["wamp.2.cbor.x", protocol]})
        self.assertEqual(st, 200)
        self.assertEqual(body["protocol"], protocol)
        return "/lp/" + body["transport"]

    def test_msgpack_session(self):
        base = self.open("wamp.2.msgpack")
        hello = msgpack.packb([1, "realm1", {"roles": {"caller": {}}}])
        st, _, _ = request(self.port, "POST", base + "/send", hello,
                           {"Content-Type": "application/x-msgpack"})
        self.assertEqual(st, 204)
        st, hdrs, data = request(self.port, "POST", base + "/receive")
        self.assertEqual(st, 200)
        self.assertEqual(hdrs["content-type"], "application/x-msgpack")
        welcome = msgpack.unpackb(data)
        self.assertEqual(welcome[0], 2)
        request(self.port, "POST", base + "/send", msgpack.packb([48, 1, {}, "wamp.session.count"]))
        st, _, data = request(self.port, "POST", base + "/receive")
        self.assertEqual(msgpack.unpackb(data)[:2], [50, 1])
        # nothing queued: an empty answer after poll_timeout
        t0 = time.monotonic()
        st, _, data = request(self.port, "POST", base + "/receive")
        self.assertEqual((st, data), (200, b""))
        self.assertGreater(time.monotonic() - t0, 0.5)
        st, _, _ = request(self.port, "POST", base + "/close")
        self.assertEqual(st, 204)
        st, _, _ = request(self.port, "POST", base + "/receive")
        self.assertEqual(st, 404)

    def test_batched_json(self):
        base = self.open("wamp.2.json.batched")
        batch = (json.dumps([1, "realm1", {"roles": {"caller": {}}}]) + "\x1e").encode()
        request(self.port, "POST", base + "/send", batch)
        st, _, data = request(self.port, "POST", base + "/receive")
        msgs = [json.loads(m) for m in data.decode().split("\x1e") if m]
        self.assertEqual(msgs[0][0], 2)
        two = (json.dumps([48, 1, {}, "wamp.session.count"]) + "\x1e" +
               json.dumps([48, 2, {}, "wamp.session.count"]) + "\x1e").encode()
        request(self.port, "POST", base + "/send", two)
        deadline, got = time.monotonic() + 5, []
        while len(got) < 2 and time.monotonic() < deadline:
            st, _, data = request(self.port, "POST", base + "/receive")
            got += [json.loads(m) for m in data.decode().split("\x1e") if m]
        self.assertEqual([m[:2] for m in got], [[50, 1], [50, 2]])
        request(self.port, "POST", base + "/close")

    def test_errors_and_idle_timeout(self):
        st, body = post_json(self.port, "/lp/open", {"protocols": ["wamp.2.xml"]})
        self.assertEqual(st, 400)
        self.assertIn("no supported protocol", body["args"][0])
        st, body = post_json(self.port, "/lp/open", [1])
        self.assertEqual(st, 400)
        st, _, _ = request(self.port, "POST", "/lp/nosuch/receive")
        self.assertEqual(st, 404)
        st, _, _ = request(self.port, "GET", "/lp/open")
        self.assertEqual(st, 405)
        base = self.open("wamp.2.json")
        # a protocol violation: ABORT is delivered, then the transport is gone
        request(self.port, "POST", base + "/send", json.dumps([48, 1, {}, "x"]))
        st, _, data = request(self.port, "POST", base + "/receive")
        self.assertEqual(json.loads(data)[0], 3)
        st, _, _ = request(self.port, "POST", base + "/receive")
        self.assertEqual(st, 404)
        # idle: no request for idle_timeout seconds closes the transport
        base = self.open("wamp.2.json")
        self.r.wait_log(r"long-poll transport \S+ idle for 2 s", timeout=6)
        st, _, _ = request(self.port, "POST", base + "/send", json.dumps([1, "realm1", {}]))
        self.assertEqual(st, 404)

    def test_max_transports(self):
        opened = [self.open("wamp.2.json") for _ in range(3)]
        st, body = post_json(self.port, "/lp/open", {"protocols": ["wamp.2.json"]})
        self.assertEqual(st, 503)
        for base in opened:
            request(self.port, "POST", base + "/close")

    def test_sse_method_and_slow_reader(self):
        st, hdrs, _ = request(self.port, "POST", "/sse?topic=a")
        self.assertEqual(st, 405)
        # a reader that never reads: its queue (64 KiB) overflows, the router hangs up
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /sse?topic=com.flood HTTP/1.1\r\nHost: x\r\n\r\n")
        head = s.recv(200)
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK"), head)
        big = "x" * 8000
        line = "http: slow consumer: send queue over"
        for i in range(400):
            post_json(self.port, "/publish", {"topic": "com.flood", "args": [big, i]})
            if any(line in l for l in self.r._stderr_lines):
                break
        self.r.wait_log(line, timeout=5)
        s.close()
        # said once (the connection core logs it; the stream used to say it again)
        self.assertEqual(sum(line in l or "sse slow consumer" in l
                             for l in self.r._stderr_lines), 1)


if __name__ == "__main__":
    unittest.main()
