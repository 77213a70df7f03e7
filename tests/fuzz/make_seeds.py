#!/usr/bin/env python3
"""tests/fuzz/make_seeds.py OUT_DIR - write the seed corpora of the fuzz targets:

  OUT_DIR/json/      one valid message of every type (and option variants), JSON
  OUT_DIR/msgpack/   the same messages in MessagePack (binary payloads as bin)
  OUT_DIR/cbor/      the same messages in CBOR (binary payloads as byte strings)
  OUT_DIR/validate/  the same, prefixed by the serializer byte fuzz_validate expects
  OUT_DIR/session/   step sequences for fuzz_session (see fuzz_session.c): RPC, PubSub,
                     progressive results, cancel, timeouts, meta API, GOODBYE/HELLO again
  OUT_DIR/client/    inputs of fuzz_client (see fuzz_client.c): a config byte and router
                     messages, time, drops and application actions, for each serializer
                     and framing: a whole session, authentication, violations, raw frames

Regression inputs (crashes found and fixed) live in tests/fuzz/regressions/<target>/ and
are replayed by ctest in every build.
"""
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


def rs_frame(kind, payload):
    return bytes([kind]) + struct.pack(">I", len(payload))[1:] + payload


# config byte 8 (JSON, RawSocket, the handshake from the input): op 0 feeds raw stream bytes
CLIENT_RAW = [cstep(0, b"\x7f\xf1\x00\x00" + rs_frame(0, j([2, 1, {}])) +
                    rs_frame(1, b"ping") + rs_frame(0, j([33, 1, 10]))[:5]),
              cstep(0, rs_frame(0, j([33, 1, 10]))[5:] + rs_frame(2, b"")),
              cstep(0, b"\x70\x00\x00\x01x")]


def main():
    out = sys.argv[1]
    for sub in ("json", "msgpack", "cbor", "validate", "session", "client"):
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
    for ser in range(3):
        for framing in (0, 4):
            for name, steps in CLIENT.items():
                with open(os.path.join(out, "client", "%s_%d" % (name, ser | framing)), "wb") as f:
                    f.write(bytes([ser | framing]) + b"".join(steps))
    with open(os.path.join(out, "client", "raw_frames"), "wb") as f:
        f.write(bytes([8]) + b"".join(CLIENT_RAW))


if __name__ == "__main__":
    main()
