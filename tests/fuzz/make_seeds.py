#!/usr/bin/env python3
"""tests/fuzz/make_seeds.py OUT_DIR - write the seed corpora of the fuzz targets:

  OUT_DIR/json/      one valid message of every type (and option variants), JSON
  OUT_DIR/msgpack/   the same messages in MessagePack (binary payloads as bin)
  OUT_DIR/cbor/      the same messages in CBOR (binary payloads as byte strings)
  OUT_DIR/validate/  the same, prefixed by the serializer byte fuzz_validate expects
  OUT_DIR/session/   step sequences for fuzz_session (see fuzz_session.c): RPC, PubSub,
                     progressive results, cancel, timeouts, meta API, GOODBYE/HELLO again
  OUT_DIR/httpreq/   request heads (valid, odd, malformed, pipelined) for fuzz_httpreq
  OUT_DIR/bridge/    publisher, caller and webhook requests for fuzz_bridge
  OUT_DIR/httpsig/   signed requests (right, stale, replayed, malformed) for fuzz_httpsig
  OUT_DIR/longpoll/  long-poll /open, /send, /receive, /close requests for fuzz_longpoll
  OUT_DIR/yaml/      YAML documents for fuzz_yaml: a Crossbar node configuration, every
                     scalar type, tags, anchors, aliases and merge keys, flow and block
                     styles, and a small alias bomb (refused)
  OUT_DIR/webfile/   request paths (plain, encoded, every traversal form), Range values,
                     entity tags and HTTP dates for fuzz_webfile (8 bytes of file size first)
  OUT_DIR/client/    inputs of fuzz_client (see fuzz_client.c): a config byte and router
                     messages, time, drops and application actions, for each serializer
                     and framing: a whole session, authentication, violations, raw frames

Regression inputs (crashes found and fixed) live in tests/fuzz/regressions/<target>/ and
are replayed by ctest in every build.
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import sys

import cbor2
import msgpack

BIN = b"\x00\x01\xfe\xff"

MESSAGES = [
    [1, "realm1", {"roles": {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}},
                   "authmethods": ["anonymous", "ticket"], "authid": "joe"}],
    [2, 12345, {"roles": {"broker": {}, "dealer": {}}, "authid": "x", "authrole": "anonymous"}],
    [3, {"message": "bye"}, "wamp.error.no_such_realm"],
    [4, "wampcra", {"challenge": "{\"nonce\": \"abc\"}"}],
    [5, "c2lnbmF0dXJl", {}],
    [6, {}, "wamp.close.close_realm"],
    [6, {"message": "x"}, "wamp.close.goodbye_and_out"],
    [8, 48, 1, {}, "wamp.error.invalid_uri"],
    [8, 68, 7, {}, "com.app.error", [1, 2], {"a": None}],
    [16, 1, {"acknowledge": True, "exclude_me": False, "retain": True}, "com.app.topic", ["a", 1.5, BIN], {"k": [True, None]}],
    [16, 2, {"eligible": [1, 2], "exclude": [3], "eligible_authid": ["a"], "exclude_authrole": ["r"]}, "com.app.t"],
    [17, 1, 99],
    [32, 2, {"match": "prefix", "get_retained": True}, "com.app."],
    [32, 3, {"match": "wildcard"}, "com..topic"],
    [33, 2, 5],
    [34, 3, 5],
    [35, 4],
    [36, 5, 6, {"topic": "com.app.x", "publisher": 1}, [1], {"b": BIN}],
    [48, 7, {"receive_progress": True, "timeout": 1000, "disclose_me": True}, "com.app.proc", [1, 2, 3], {"x": 1}],
    [48, 8, {"progress": True}, "com.app.proc", ["chunk"]],
    [49, 7, {"mode": "kill"}],
    [49, 8, {"mode": "skip"}],
    [50, 7, {"progress": True}, [1]],
    [50, 7, {}, [BIN], {"r": 2}],
    [64, 9, {"match": "prefix", "invoke": "roundrobin", "disclose_caller": True}, "com.app."],
    [64, 10, {}, "com.app.proc"],
    [65, 9, 11],
    [66, 10, 11],
    [67, 11],
    [68, 1, 11, {"procedure": "com.app.proc", "caller": 5}, ["a"], {}],
    [69, 1, {"reason": "wamp.error.canceled"}],
    [70, 1, {"progress": True}, [1], {"y": None}],
    [70, 1, {}],
]


def to_json(v):
    if isinstance(v, bytes):
        import base64
        return "\u0000" + base64.b64encode(v).decode()
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    return v


def j(msg):
    return json.dumps(to_json(msg), separators=(",", ":")).encode()


def m(msg):
    return msgpack.packb(msg, use_bin_type=True)


def step(who, kind, data=b"", n=None):
    """One fuzz_session step: op byte, 16-bit length, bytes."""
    if n is None:
        n = len(data)
    return bytes([who + 3 * kind]) + struct.pack("<H", n) + data


def say(who, msg):
    # session 2 speaks MessagePack: kind 7 re-encodes the JSON for it
    return step(who, 7 if who == 2 else 0, j(msg))


SESSIONS = {
    "pubsub": [say(0, [32, 1, {}, "com.a.t"]), say(2, [32, 1, {"match": "prefix"}, "com.a."]),
               say(1, [16, 1, {"acknowledge": True}, "com.a.t", [1], {"b": BIN}]),
               say(0, [34, 2, 1]), say(1, [16, 2, {"retain": True}, "com.a.t", [2]]),
               say(0, [32, 3, {"get_retained": True}, "com.a.t"])],
    "rpc": [say(0, [64, 1, {}, "com.a.p"]), say(1, [48, 1, {"receive_progress": True}, "com.a.p", [1]]),
            say(0, [70, 1, {"progress": True}, [1]]), say(0, [70, 1, {}, [2]]),
            say(2, [48, 2, {}, "com.a.p", [BIN]]), say(0, [8, 68, 2, {}, "com.a.err", ["x"]]),
            say(0, [66, 2, 1])],
    "cancel_timeout": [say(0, [64, 1, {}, "com.a.p"]), say(1, [48, 1, {"timeout": 50}, "com.a.p"]),
                       step(0, 6, n=100), say(2, [48, 3, {}, "com.a.p"]),
                       say(2, [49, 3, {"mode": "killnowait"}]), say(0, [70, 2, {}])],
    "progressive_invocations": [say(0, [64, 1, {}, "com.a.p"]),
                                say(1, [48, 5, {"progress": True}, "com.a.p", [1]]),
                                say(1, [48, 5, {"progress": True}, "com.a.p", [2]]),
                                say(1, [48, 5, {}, "com.a.p", [3]]), say(0, [70, 1, {}])],
    "meta": [say(0, [48, 1, {}, "wamp.session.count"]), say(1, [48, 2, {}, "wamp.session.list"]),
             say(2, [48, 3, {}, "wamp.registration.list"]),
             say(0, [48, 4, {}, "wamp.session.add_testament", ["com.a.will", [1], {}]]),
             say(1, [32, 1, {}, "wamp.session.on_leave"]), step(0, 5), say(1, [48, 5, {}, "wamp.subscription.lookup", ["com.a.t"]])],
    "goodbye_hello": [say(0, [6, {}, "wamp.close.close_realm"]), say(0, [1, "realm1", {"roles": {"caller": {}}}]),
                      step(1, 5), say(1, [1, "realm1", {"roles": {"subscriber": {}}}]),
                      say(1, [1, "realm1", {}]), say(2, [64, 1, {}, "wamp.bad"])],
    "shared": [say(0, [64, 1, {"invoke": "roundrobin"}, "com.a.s"]), say(2, [64, 1, {"invoke": "roundrobin"}, "com.a.s"]),
               say(1, [48, 1, {}, "com.a.s"]), say(1, [48, 2, {}, "com.a.s"]),
               say(0, [70, 1, {}]), say(2, [70, 1, {}]), say(1, [64, 3, {"invoke": "first"}, "com.a.s"])],
    # resumable sessions: a resumable HELLO on a new connection, its ACKs, a detach with
    # an event and a call waiting for it, the window, a resume with a wrong token
    "resume": [step(0, 5), say(0, [1, "realm1", {"resumable": True}]),
               say(0, [32, 1, {}, "com.a.t"]), say(0, [64, 2, {}, "com.a.p"]), say(0, [7, 1]),
               say(1, [16, 1, {}, "com.a.t", [1]]), say(0, [7, 3]), step(0, 5),
               say(1, [16, 2, {}, "com.a.t", [2]]), say(1, [48, 1, {}, "com.a.p"]),
               say(0, [1, "realm1", {"resume": {"session": 1, "token": "x" * 44, "received": 0}}]),
               step(0, 6, n=1000), step(0, 6, n=5000), say(2, [7, 0])],
}


REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /call?x=1&y=%20z&topic=com.a HTTP/1.1\r\nHost: a\r\nContent-Type:  application/json \r\n"
    b"Content-Length: 12\r\nExpect: 100-continue\r\nConnection: keep-alive\r\n\r\n{\"body\":1}..",
    b"POST /publish HTTP/1.0\nContent-Length: 2\nConnection: close\n\n{}",
    b"PUT /webhook/gh HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\nUpgrade: websocket\r\n"
    b"X-Hub-Signature-256: sha256=00\r\nAuthorization: Bearer t\r\n\r\n",
    b"GET /sse?topic=a.b&topic=c%2Ed&authid=joe+x HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n"
    b"GET /second HTTP/1.1\r\n\r\n",
    b"OPTIONS /lp/open HTTP/1.1\r\nOrigin: http://x\r\nAccess-Control-Request-Method: POST\r\n\r\n",
    b"POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    b"POST /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
    b"GET /x HTTP/1.1\r\n folded: no\r\n\r\n",
    b"get /x HTTP/1.1\r\n\r\n",
    b"GET /x HTTP/2.0\r\n\r\n",
    b"GET /%zz%00%41 HTTP/1.1\r\nX:\r\n\r\n",
    b"GET /x HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(70)) + b"\r\n",
]

BRIDGE = [
    (0, "POST", "/publish", {"Content-Type": "application/json"},
     json.dumps({"topic": "com.a.t", "args": [1, "x", None], "kwargs": {"k": [True]},
                 "options": {"exclude_me": False, "retain": True}})),
    (0, "POST", "/publish", {}, json.dumps({"topic": "com.a.t"})),
    (0, "PUT", "/publish", {"Content-Type": "application/json; charset=utf-8"},
     json.dumps({"topic": "com.a.t", "args": None, "kwargs": None})),
    (0, "POST", "/publish", {"Content-Type": "application/json; charset=latin1"}, "{}"),
    (0, "POST", "/publish", {"Content-Type": "text/plain"}, "x"),
    (0, "POST", "/publish", {}, json.dumps({"topic": "com.a.t", "procedure": "x"})),
    (0, "POST", "/publish", {}, '{"topic": "a", "topic": "b"}'),
    (1, "POST", "/call", {"Content-Type": "application/json"},
     json.dumps({"procedure": "com.a.p", "args": [1, 2], "options": {"receive_progress": True,
                                                                      "timeout": 100}})),
    (1, "POST", "/call", {}, json.dumps({"procedure": "", "args": {}})),
    (1, "POST", "/call", {}, json.dumps({"procedure": "com.a.p", "kwargs": []})),
    (1, "POST", "/call", {}, "[1, 2]"),
    (1, "POST", "/call", {}, ""),
    (2, "POST", "/hook", {"X-GitHub-Event": "push", "Authorization": "Bearer s3cret",
                          "Cookie": "a=b", "Proxy-Authorization": "Basic x", "X-Other": "1"},
     json.dumps({"ref": "refs/heads/main"})),
    (2, "POST", "/hook", {"Content-Type": "application/octet-stream"}, "\udcff\x00binary"),
    (3, "POST", "/hook2", {"X-GitHub-Event": "ping", "Content-Type": "application/json",
                           "X-Not-Listed": "x", "Authorization": "Bearer t"}, "{}"),
    (4, "POST", "/gh", {"X-Hub-Signature-256": "sha256=" + hmac.new(
        b"fuzz-secret", b'{"zen": "x"}', hashlib.sha256).hexdigest()}, '{"zen": "x"}'),
    (4, "POST", "/gh", {"X-Hub-Signature-256": "sha256=00"}, "{}"),
]


def http_request(method, path, headers, body):
    raw = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, path)
    for k, v in headers.items():
        head += "%s: %s\r\n" % (k, v)
    head += "Content-Length: %d\r\n\r\n" % len(raw)
    return head.encode() + raw


NOW_BASE = 1600000000000  # fuzz_httpsig's clock base (ms)


def signed_seed(flags, now_off, later, params, body, sign_here=False):
    """flags, 5-byte clock offset, three 4-byte later offsets, query, '\n', body."""
    q = dict(params)
    if sign_here:
        h = hmac.new(b"fuzz-secret", digestmod=hashlib.sha256)
        for k in ("key", "timestamp", "seq", "nonce"):
            h.update(str(q[k]).encode())
        h.update(body)
        q["signature"] = base64.urlsafe_b64encode(h.digest()).decode()
    query = "&".join("%s=%s" % (k, v) for k, v in q.items())
    return (bytes([flags]) + now_off.to_bytes(5, "big") +
            b"".join(struct.pack(">i", x) for x in later) + query.encode() + b"\n" + body)


def iso(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def httpsig_seeds():
    now = 123456789
    p = {"key": "fuzz-key", "timestamp": iso(NOW_BASE + now), "seq": 1, "nonce": 42}
    body = b'{"topic": "com.a.t", "args": [1]}'
    return {
        "signed_300": signed_seed(2 | 4, now, [0, 1000, 600000], p, body),
        "signed_1s_ahead": signed_seed(1 | 4, now - 999, [1, 998, 2000],
                                       dict(p, timestamp=iso(NOW_BASE + now)), body),
        "signed_no_window": signed_seed(0 | 4, now, [5, 5, 5], p, b""),
        "signed_by_python": signed_seed(2, now, [0, 0, 0], p, body, sign_here=True),
        "stale": signed_seed(1 | 4, now + 5000, [0, 0, 0], p, body),
        "unknown_key": signed_seed(2 | 4, now, [0, 0, 0], dict(p, key="other"), body),
        "bad_signature": signed_seed(2, now, [0, 0, 0], dict(p, signature="AAAA"), body),
        "malformed": signed_seed(3 | 4, now, [0, 0, 0], dict(p, timestamp="2020-13-40T25:61:61Z",
                                                              seq="-x"), body),
        "missing": signed_seed(2, now, [0, 0, 0], {"key": "fuzz-key"}, body),
        "github": signed_seed(8, 0, [0, 0, 0], {}, b'{"zen": "Design for failure."}'),
        "github_wrong": bytes([0]) + bytes(17) + b"sha256=" + b"0" * 64 + b"\n{}",
    }


LP_TOKENS = ["q2VhQ5kQ0Yx7bW-3f_Zt8nLrA1sD4eGh", "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4",
             "_-_-_-_-0123456789abcdefABCDEFgh"]  # fuzz_longpoll.c's live transports


def longpoll_seeds():
    t = LP_TOKENS[0]
    batch = (json.dumps([1, "realm1", {}]) + "\x1e" + json.dumps([48, 1, {}, "a"]) +
             "\x1e").encode()
    mbatch = b"".join(struct.pack(">I", len(x)) + x
                      for x in (m([1, "realm1", {}]), m([48, 1, {}, "a"])))
    return {
        "open": b"\x00/open\n" + json.dumps({"protocols": ["wamp.2.json"]}).encode(),
        "open_pick": b"\x00/open\n" + json.dumps({"protocols": [
            "wamp.2.cbor.x", 3, "wamp.2.msgpack.batched", "wamp.2.json"]}).encode(),
        "open_json_only": bytes([1 << 2]) + b"/open\n" + json.dumps(
            {"protocols": ["wamp.2.msgpack", "wamp.2.json.batched"]}).encode(),
        "open_bad": b"\x00/open\n[1]",
        "open_get": b"\x01/open\n",
        "send": b"\x00/" + t.encode() + b"/send\n" + j([1, "realm1", {}]),
        "send_batched": b"\x20/" + LP_TOKENS[1].encode() + b"/send\n" + batch,
        "send_batched_msgpack": b"\x60/" + LP_TOKENS[2].encode() + b"/send\n" + mbatch,
        "send_batched_broken": b"\x20/" + t.encode() + b"/send\n" + batch[:-1],
        "receive": b"\x00/" + t.encode() + b"/receive\n",
        "close": b"\x00/" + LP_TOKENS[2].encode() + b"/close\n",
        "written_token": b"\xa0/" + b"x" * 32 + b"/send\n" + batch,
        "public_id": b"\x00/17/send\n[1]",
        "truncated": b"\x00/" + t[:-1].encode() + b"/receive\n",
        "altered": b"\x00/" + (t[:-1] + "A").encode() + b"/close\n",
        "unknown_op": b"\x00/" + t.encode() + b"/x/send\n",
    }

def cstep(op, data=b"", n=None):
    """One fuzz_client step: op byte, 16-bit length, bytes (ops 0 and 1 only)."""
    if n is None:
        n = len(data)
    return bytes([op]) + struct.pack("<H", n) + data


def rmsg(msg):  # op 1: a JSON message the harness re-encodes for the client's serializer
    return cstep(1, j(msg))


def act(what):  # op 4: the application acts (see fuzz_client.c's act())
    return cstep(4, n=what)


WELCOME = rmsg([2, 1, {"authid": "fz", "authrole": "r", "authmethod": "anonymous"}])
CLIENT = {
    "session": [WELCOME, rmsg([33, 1, 10]), rmsg([33, 2, 11]), rmsg([65, 3, 20]),
                rmsg([36, 10, 100, {}, [1], {"a": BIN}]),
                rmsg([36, 11, 101, {"topic": "com.f.x", "retained": True, "publisher": 5},
                      [BIN]]),
                rmsg([68, 30, 20, {"receive_progress": True, "procedure": "com.f.p", "caller": 3},
                      [1]]),
                rmsg([68, 31, 20, {}]), rmsg([68, 32, 20, {}]), rmsg([69, 32, {"mode": "kill"}]),
                rmsg([68, 35, 20, {}]), act(7),
                rmsg([50, 4, {"progress": True}, [1]]), rmsg([50, 4, {}, [2], {"k": None}]),
                rmsg([17, 5, 77]), act(0), act(1), act(2), act(3), act(12),
                rmsg([8, 48, 6, {}, "wamp.error.x", [1]]), rmsg([33, 8, 12]), rmsg([35, 9]),
                rmsg([35, 0, {"subscription": 10, "reason": "x"}]),
                rmsg([67, 0, {"registration": 20}]), cstep(2, n=200), cstep(5), cstep(2, n=600),
                rmsg([6, {}, "wamp.close.system_shutdown"]), cstep(3), WELCOME,
                rmsg([8, 32, 1, {}, "wamp.error.not_authorized"]), rmsg([33, 2, 13])],
    "auth": [rmsg([4, "ticket", {}]),
             rmsg([4, "wampcra", {"challenge": "abc", "salt": "s", "iterations": 10, "keylen": 32}]),
             rmsg([4, "wampcra", {"challenge": "abc"}]),
             rmsg([4, "cryptosign", {"challenge": "aa" * 32}]), WELCOME],
    "violations": [WELCOME, rmsg([48, 1, {}, "com.x"]), cstep(3), WELCOME,
                   rmsg([8, 36, 1, {}, "wamp.error.x"]), cstep(3), rmsg([50, 1, {}])],
    "abort_retry": [rmsg([3, {"message": "x"}, "wamp.error.no_such_realm"]), cstep(3),
                    cstep(2, n=5000), WELCOME, act(5), rmsg([6, {}, "wamp.close.goodbye_and_out"]),
                    act(1), act(6), cstep(3), WELCOME],
    "offline": [act(1), act(1), cstep(3), WELCOME, rmsg([17, 1, 2]), act(1), cstep(3),
                cstep(2, n=1000), WELCOME],
}


# config bit 16: resumable. A resumable session, ACKs both ways, a drop with requests made
# while suspended, a resume (the router received 2), a second drop, a refusal, a new one.
RWELCOME = rmsg([2, 1, {"authid": "fz", "authrole": "r", "resumable": True,
                        "resume-token": "tok", "resume_window_s": 5}])
CLIENT_RESUME = [RWELCOME, rmsg([33, 1, 10]), rmsg([33, 2, 11]), rmsg([65, 3, 20]),
                 rmsg([7, 2]), rmsg([36, 10, 100, {}, [1]]), rmsg([68, 30, 20, {}]),
                 cstep(2, n=1000), cstep(5), cstep(3), act(0), act(7), act(1),
                 rmsg([2, 1, {"resumed": True, "resume-token": "tok2", "received": 2}]),
                 rmsg([50, 4, {}, [1]]), rmsg([7, 6]), cstep(3),
                 rmsg([3, {}, "wamp.error.authentication_failed"]), cstep(3), cstep(2, n=6000),
                 RWELCOME, cstep(3), rmsg([2, 7, {"resumed": False}])]


def rs_frame(kind, payload):
    return bytes([kind]) + struct.pack(">I", len(payload))[1:] + payload


# config byte 8 (JSON, RawSocket, the handshake from the input): op 0 feeds raw stream bytes
CLIENT_RAW = [cstep(0, b"\x7f\xf1\x00\x00" + rs_frame(0, j([2, 1, {}])) +
                    rs_frame(1, b"ping") + rs_frame(0, j([33, 1, 10]))[:5]),
              cstep(0, rs_frame(0, j([33, 1, 10]))[5:] + rs_frame(2, b"")),
              cstep(0, b"\x70\x00\x00\x01x")]


YAML = {
    "crossbar": b"""version: 2
controller: {}
workers:
  - type: router
    realms:
      - name: realm1
        roles:
          - &anon
            name: anonymous
            permissions:
              - {uri: '', match: prefix, allow: {call: true, subscribe: yes}, disclose: {caller: no}}
          - <<: *anon
            name: frontend
    transports:
      - type: web
        endpoint: {type: tcp, port: 8080, tls: {key: server.key, certificate: server.crt}}
        paths:
          /: {type: static, directory: ../web, options: {enable_directory_listing: true}}
          ws:
            type: websocket
            serializers: [json, msgpack, cbor]
            auth:
              ticket:
                type: static
                principals:
                  joe: {ticket: "${JOE_TICKET}", role: frontend}
              wampcra:
                type: dynamic
                authenticator: com.example.authenticate
""",
    "scalars": b"[~, null, '', true, No, on, 0, -17, 0x1F, 0o17, 0b101, 1_000, 1.5, .5, 1e3, "
               b"-1.5E-3, '42', \"a\\tb\\u00e9\", 2001:db8::1, 00:11:22, y]\n",
    "refused": b"a: 0755\nb: 1:30\nc: .inf\nd: 9223372036854775808\n",
    "tags": b"[!!str 1, !!int '7', !!float 3, !!bool yes, !!null '', ! x, !!binary aGk=]\n",
    "anchors": b"a: &a [1, {k: v}]\nb: *a\nc: &c {x: 1}\nd: {<<: [*c, {y: 2}], x: 0}\n"
               b"e: {&k key: 1, z: {*k : 2}}\n",
    "block": b"text: |\n  line one\n  line two\nfolded: >-\n  one\n  two\n"
             b"list:\n  - - nested\n    - seq\n  - ? complex\n    : value\n",
    "dup": b"a: 1\nb: {x: 1, x: 2}\n",
    "docs": b"---\na: 1\n...\n---\nb: 2\n",
    "bomb": b"a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\n"
            b"d: &d [*c, *c, *c, *c]\ne: &e [*d, *d, *d, *d]\nf: &f [*e, *e, *e, *e]\n"
            b"g: &g [*f, *f, *f, *f]\nh: [*g, *g, *g, *g]\n",
    "utf16": "a: b\n".encode("utf-16"),
}
WEBFILE = [
    "/", "/index.html", "/a/b/c.css", "//a///b/", "/caf%C3%A9/%41.txt", "/.well-known/x",
    "/../etc/passwd", "/%2e%2e/etc/passwd", "/..%2fetc%2fpasswd", "/a/..%2F..%2Fb",
    "/%252e%252e/x", "/..\\etc", "/%5c..", "/a%00b", "/a%0d%0ab", "/%", "/%4",
    "bytes=0-9", "bytes=90-", "bytes=-10", "bytes=5-3", "bytes=0-1,5-6", "bytes=-0",
    "bytes=18446744073709551615-", "bytes=0-18446744073709551616", "items=1-2",
    "\"c-2ebc98a100000005\"", "W/\"x\", \"y\"", "*", "\"unterminated",
    "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994", "Thu, 31 Feb 2000 23:59:60 GMT", "<a href=\"x\">&'",
]


def main():
    out = sys.argv[1]
    for sub in ("json", "msgpack", "cbor", "validate", "session", "httpreq", "bridge",
                "httpsig", "longpoll", "client", "yaml", "webfile"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    for i, msg in enumerate(MESSAGES):
        name = "%02d_type%d" % (i, msg[0])
        with open(os.path.join(out, "json", name), "wb") as f:
            f.write(j(msg))
        with open(os.path.join(out, "msgpack", name), "wb") as f:
            f.write(m(msg))
        with open(os.path.join(out, "cbor", name), "wb") as f:
            f.write(cbor2.dumps(msg))
        with open(os.path.join(out, "validate", name + "_j"), "wb") as f:
            f.write(b"\x00" + j(msg))
        with open(os.path.join(out, "validate", name + "_m"), "wb") as f:
            f.write(b"\x01" + m(msg))
    for name, steps in SESSIONS.items():
        with open(os.path.join(out, "session", name), "wb") as f:
            f.write(b"".join(steps))
    for i, raw in enumerate(REQUESTS):
        for seed in (0, 7):  # two chunkings of each
            with open(os.path.join(out, "httpreq", "%02d_%d" % (i, seed)), "wb") as f:
                f.write(bytes([seed]) + raw)
    for i, (svc, method, path, headers, body) in enumerate(BRIDGE):
        with open(os.path.join(out, "bridge", "%02d_%s" % (i, path.strip("/"))), "wb") as f:
            f.write(bytes([svc]) + http_request(method, path, headers, body))
    for sub, seeds in (("httpsig", httpsig_seeds()), ("longpoll", longpoll_seeds())):
        for name, data in seeds.items():
            with open(os.path.join(out, sub, name), "wb") as f:
                f.write(data)
    for i, text in enumerate(WEBFILE):
        for size in (0, 100):
            with open(os.path.join(out, "webfile", "%02d_%d" % (i, size)), "wb") as f:
                f.write(struct.pack("<Q", size) + text.encode())
    for ser in range(3):
        for framing in (0, 4):
            for name, steps in CLIENT.items():
                with open(os.path.join(out, "client", "%s_%d" % (name, ser | framing)), "wb") as f:
                    f.write(bytes([ser | framing]) + b"".join(steps))
    with open(os.path.join(out, "client", "raw_frames"), "wb") as f:
        f.write(bytes([8]) + b"".join(CLIENT_RAW))
    for ser in range(3):
        with open(os.path.join(out, "client", "resume_%d" % ser), "wb") as f:
            f.write(bytes([16 | ser]) + b"".join(CLIENT_RESUME))
    for name, data in YAML.items():
        with open(os.path.join(out, "yaml", name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
