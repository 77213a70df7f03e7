#!/usr/bin/env python3
"""HTTP bridge publish throughput vs WebSocket publish, measured in one run.

    WAMPD_BIN=build-bench/router/wampd python3 bench/http_publish.py [--n 20000] [--window 16]

Both sides are driven the same way from one Python process with raw sockets: a window of
`window` acknowledged publications in flight on one connection (HTTP/1.1 keep-alive with
pipelined POST /publish; WebSocket PUBLISH with acknowledge: true), 64-byte payload, no
subscriber. Prints publications/s of each and their ratio. The client is the same for both,
so the ratio is what the HTTP path costs compared with WebSocket on this machine.
"""

import argparse
import json
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "wire"))

from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS  # noqa: E402

PAYLOAD = "x" * 64


def http_run(port, n, window):
    body = json.dumps({"topic": "com.bench", "args": [PAYLOAD]}).encode()
    req = (b"POST /publish HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sent = done = 0
    buf = b""
    t0 = time.monotonic()
    while done < n:
        k = min(window - (sent - done), n - sent)
        if k > 0:
            s.sendall(req * k)
            sent += k
        buf += s.recv(1 << 16)
        while True:
            i = buf.find(b"\r\n\r\n")
            if i < 0:
                break
            j = buf.find(b"Content-Length: ", 0, i)
            length = int(buf[j + 16:buf.find(b"\r\n", j)])
            if len(buf) < i + 4 + length:
                break
            assert buf.startswith(b"HTTP/1.1 200"), buf[:60]
            buf = buf[i + 4 + length:]
            done += 1
    dt = time.monotonic() - t0
    s.close()
    return n / dt


def ws_run(port, n, window):
    w = WS("127.0.0.1", port, "/ws")
    assert w.hello()[0] == 2
    sent = done = 0
    t0 = time.monotonic()
    while done < n:
        while sent - done < window and sent < n:
            sent += 1
            w.send([16, sent, {"acknowledge": True}, "com.bench", [PAYLOAD]])
        m = w.recv()
        assert m[0] == 17, m
        done += 1
    dt = time.monotonic() - t0
    w.close()
    return n / dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--window", type=int, default=16)
    a = ap.parse_args()
    cfg = {"listeners": [{"port": 0, "path": "/ws", "http": {
        "/publish": {"type": "publisher", "realm": "realm1"}}}], "realms": [{"name": "realm1"}],
        "log_level": "warn"}
    with WampdProcess(config=cfg, log_level="warn") as r:
        ws_run(r.port, 1000, a.window)  # warm-up
        http_run(r.port, 1000, a.window)
        ws = ws_run(r.port, a.n, a.window)
        http = http_run(r.port, a.n, a.window)
    print(json.dumps({"n": a.n, "window": a.window, "websocket_publish_per_s": round(ws),
                      "http_publish_per_s": round(http), "http_to_ws_ratio": round(http / ws, 2)}))


if __name__ == "__main__":
    main()
