"""Helpers for the event store tests: a raw WAMP client on wsraw.WS, an SSE reader, the
admin metrics. Every read has a deadline; nothing sleeps."""

import json
import re
import socket
import sys
import os
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("lib", "wire"):
    sys.path.insert(0, os.path.join(HERE, "..", d))

from wsraw import WS  # noqa: E402

WELCOME, ERROR, PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT = 2, 8, 16, 17, 32, 33, 36
CALL, RESULT = 48, 50


class Client:
    """One anonymous session over WebSocket (JSON)."""

    def __init__(self, url_or_proc, realm="realm1"):
        host, port, path = url_or_proc.host, url_or_proc.port, url_or_proc.path
        self.ws = WS(host, port, path)
        welcome = self.ws.hello(realm)
        assert welcome[0] == WELCOME, welcome
        self.session_id = welcome[1]
        self.req = 0
        self.events = []

    def next_req(self):
        self.req += 1
        return self.req

    def recv_answer(self, req):
        """The answer to request req (EVENTs meanwhile are kept in self.events)."""
        while True:
            m = self.ws.recv()
            if m[0] == EVENT:
                self.events.append(m)
                continue
            if m[0] == ERROR and m[2] == req:
                return m
            if m[0] != ERROR and m[1] == req:
                return m

    def publish(self, topic, args=(), **opts):
        req = self.next_req()
        self.ws.send([PUBLISH, req, dict(opts, acknowledge=True), topic, list(args)])
        return self.recv_answer(req)

    def publish_many(self, topic, n, **opts):
        """n acknowledged publications sent back to back, then their answers in order:
        [(publication id or None, the ERROR or None)]."""
        reqs = []
        for i in range(n):
            req = self.next_req()
            self.ws.send([PUBLISH, req, dict(opts, acknowledge=True), topic, [i]])
            reqs.append(req)
        out = []
        for req in reqs:
            a = self.recv_answer(req)
            out.append((a[2], None) if a[0] == PUBLISHED else (None, a))
        return out

    def call(self, proc, args=(), kwargs=None):
        req = self.next_req()
        msg = [CALL, req, {}, proc, list(args)]
        if kwargs is not None:
            msg.append(kwargs)
        self.ws.send(msg)
        return self.recv_answer(req)

    def subscribe(self, topic, **opts):
        req = self.next_req()
        self.ws.send([SUBSCRIBE, req, opts, topic])
        return self.recv_answer(req)

    def next_event(self, timeout=5):
        if self.events:
            return self.events.pop(0)
        m = self.ws.recv(timeout=timeout)
        assert m[0] == EVENT, m
        return m

    def history(self, uri, match="prefix", **kwargs):
        """wamp.subscription.get_events of the (uri, match) subscription: the events."""
        r = self.call("wamp.subscription.lookup", [uri, {"match": match}])
        assert r[0] == RESULT and r[3][0], r
        r = self.call("wamp.subscription.get_events", [r[3][0]], kwargs)
        assert r[0] == RESULT, r
        return r[3][0]

    def close(self):
        self.ws.close()


def sse_events(proc, query, last_event_id=None, want=1, timeout=5):
    """GET /sse?<query> (with Last-Event-ID): the (id, data) events and the comment lines
    of the stream once `want` events came (or the deadline passed)."""
    s = socket.create_connection((proc.host, proc.port), timeout=timeout)
    head = "GET /sse?%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" % query
    if last_event_id is not None:
        head += "Last-Event-ID: %s\r\n" % last_event_id
    s.sendall((head + "\r\n").encode())
    data = b""
    deadline = time.monotonic() + timeout
    events = []
    try:
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            events = [(int(i), json.loads(d)) for i, d in
                      re.findall(rb"id: (\d+)\r?\ndata: ([^\n]*)\n", data)]
            if len(events) >= want:
                break
    finally:
        s.close()
    return events, data


def metrics(proc, ticket=None):
    req = urllib.request.Request(proc.admin_url + "/metrics")
    if ticket:
        req.add_header("Authorization", "Bearer " + ticket)
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read().decode()


def metric(text, name, **labels):
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r'^%s\{([^}]*)\} (\S+)$' % re.escape(name), line)
        if m and ",".join(sorted(m.group(1).split(","))) == want:
            return float(m.group(2))
    return None
