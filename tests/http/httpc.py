"""HTTP helpers for the HTTP-service tests: requests through http.client, raw sockets for
what http.client will not send (pipelining, chunked bodies), and Crossbar's request
signatures. Every read has a deadline."""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
import urllib.parse


def exchange(c, method, path, body=None, headers=None):
    """(status, headers dict (lower-case names), body bytes) of one request on the
    http.client connection c (plain or TLS); a dict or list body is sent as JSON."""
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def request(port, method, path, body=None, headers=None, timeout=5):
    """(status, headers dict (lower-case names), body bytes) of one request."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        return exchange(c, method, path, body, headers)
    finally:
        c.close()


def post_json(port, path, obj, headers=None, timeout=5):
    status, _, data = request(port, "POST", path, obj, headers, timeout)
    return status, json.loads(data) if data else None


def sign(key, secret, body, ts=None, seq=1, nonce=None):
    """Query string of a Crossbar-signed request."""
    ts = ts or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    nonce = nonce if nonce is not None else int.from_bytes(hashlib.sha256(
        str(time.monotonic_ns()).encode()).digest()[:6], "big")
    raw = body.encode() if isinstance(body, str) else body
    h = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    for part in (key, ts, str(seq), str(nonce)):
        h.update(part.encode())
    h.update(raw)
    sig = base64.urlsafe_b64encode(h.digest()).decode()
    return urllib.parse.urlencode({"key": key, "timestamp": ts, "seq": seq, "nonce": nonce,
                                   "signature": sig})


def read_responses(s, timeout=5, want=None):
    """Read from the socket s (plain or TLS) until `want` complete responses are in (None:
    until EOF), the peer resets, or `timeout` seconds pass; the bytes read."""
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (want and count_responses(buf) >= want):
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        buf += chunk
    return buf


def raw_exchange(port, data, want_responses=1, timeout=5):
    """Send bytes, read until want_responses complete responses (or EOF); the raw bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        return read_responses(s, timeout, want_responses)
    finally:
        s.close()


def count_responses(buf):
    n, i = 0, 0
    while True:
        j = buf.find(b"\r\n\r\n", i)
        if j < 0:
            return n
        head = buf[i:j].decode(errors="replace").lower()
        length = 0
        for line in head.split("\r\n"):
            if line.startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if len(buf) < j + 4 + length:
            return n
        n += 1
        i = j + 4 + length
