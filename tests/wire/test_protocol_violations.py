"""Protocol violations: each gets ABORT wamp.error.protocol_violation and close 1002, in
JSON and in MessagePack; the router keeps serving the witness session throughout."""

import unittest

from wirecase import (ABORT, AUTHENTICATE, CALL, CANCEL, CHALLENGE, ERROR, EVENT, GOODBYE,
                      HELLO, INTERRUPT, INVOCATION, PUBLISH, PUBLISHED, REGISTER, REGISTERED,
                      RESULT, SUBSCRIBE, SUBSCRIBED, UNREGISTER, UNREGISTERED, UNSUBSCRIBE,
                      UNSUBSCRIBED, WELCOME, YIELD, WireCase)

# messages that violate the protocol before HELLO (no session yet)
BEFORE_HELLO = [
    ("subscribe first", [SUBSCRIBE, 1, {}, "com.t"]),
    ("call first", [CALL, 1, {}, "com.p"]),
    ("goodbye first", [GOODBYE, {}, "wamp.close.close_realm"]),
    ("error first", [ERROR, INVOCATION, 1, {}, "wamp.error.x"]),
    ("authenticate first", [AUTHENTICATE, "sig", {}]),
    ("welcome from client", [WELCOME, 1, {}]),
    ("hello realm not a string", [HELLO, 5, {}]),
    ("hello details a list", [HELLO, "realm1", []]),
    ("hello arity short", [HELLO, "realm1"]),
    ("hello roles not a dict", [HELLO, "realm1", {"roles": []}]),
]

# messages that violate the protocol inside an established session
AFTER_WELCOME = [
    ("second hello", [HELLO, "realm1", {}]),
    ("welcome from client", [WELCOME, 1, {}]),
    ("challenge from client", [CHALLENGE, "ticket", {}]),
    ("authenticate after welcome", [AUTHENTICATE, "x", {}]),
    ("event from client", [EVENT, 1, 2, {}]),
    ("result from client", [RESULT, 1, {}]),
    ("invocation from client", [INVOCATION, 1, 2, {}]),
    ("interrupt from client", [INTERRUPT, 1, {}]),
    ("published from client", [PUBLISHED, 1, 2]),
    ("subscribed from client", [SUBSCRIBED, 1, 2]),
    ("registered from client", [REGISTERED, 1, 2]),
    ("unsubscribed from client", [UNSUBSCRIBED, 1]),
    ("unregistered from client", [UNREGISTERED, 1]),
    ("error for a call", [ERROR, CALL, 1, {}, "wamp.error.x"]),
    ("yield never invoked", [YIELD, 4242, {}]),
    ("error for an invocation never issued", [ERROR, INVOCATION, 4242, {}, "com.err"]),
    ("unknown type", [99, 1, {}]),
    ("error with an unknown request type", [ERROR, 4088, 4, {}, "com.err"]),
    ("dict key with NUL", [SUBSCRIBE, 1, {"a\u0000b": 1}, "com.t"]),
    ("type as string", ["48", 1, {}, "com.p"]),
    ("empty array", []),
    ("not an array", {"a": 1}),
    ("call arity short", [CALL, 1, {}]),
    ("call arity long", [CALL, 1, {}, "p", [], {}, 5]),
    ("request id string", [CALL, "1", {}, "com.p"]),
    ("request id negative", [CALL, -1, {}, "com.p"]),
    ("request id zero", [CALL, 0, {}, "com.p"]),
    ("request id 2^53+1", [CALL, 2 ** 53 + 1, {}, "com.p"]),
    ("request id float", [CALL, 1.5, {}, "com.p"]),
    ("options not a dict", [CALL, 1, [], "com.p"]),
    ("procedure not a string", [CALL, 1, {}, 7]),
    ("args not a list", [CALL, 1, {}, "com.p", {"a": 1}]),
    ("kwargs not a dict", [CALL, 1, {}, "com.p", [], []]),
    ("publish options wrong type", [PUBLISH, 1, {"acknowledge": "yes"}, "com.t"]),
    ("subscribe match unknown", [SUBSCRIBE, 1, {"match": "regex"}, "com.t"]),
    ("register invoke wrong type", [REGISTER, 1, {"invoke": 3}, "com.p"]),
    ("call timeout negative", [CALL, 1, {"timeout": -1}, "com.p"]),
    ("eligible not ids", [PUBLISH, 1, {"eligible": ["a"]}, "com.t"]),
    # wrong types in the other messages' fields
    ("publish topic not a string", [PUBLISH, 1, {}, 5]),
    ("publish kwargs a list", [PUBLISH, 1, {}, "com.t", [], []]),
    ("subscribe options a list", [SUBSCRIBE, 1, [], "com.t"]),
    ("subscribe topic a dict", [SUBSCRIBE, 1, {}, {"t": 1}]),
    ("unsubscribe id a string", [UNSUBSCRIBE, 1, "5"]),
    ("unsubscribe id zero", [UNSUBSCRIBE, 1, 0]),
    ("register procedure a list", [REGISTER, 1, {}, ["com.p"]]),
    ("register match a number", [REGISTER, 1, {"match": 1}, "com.p"]),
    ("unregister id a float", [UNREGISTER, 1, 1.5]),
    ("unregister arity long", [UNREGISTER, 1, 2, 3]),
    ("yield args a dict", [YIELD, 1, {}, {"a": 1}]),
    ("yield request negative", [YIELD, -5, {}]),
    ("error uri a number", [ERROR, INVOCATION, 1, {}, 5]),
    ("error details a string", [ERROR, INVOCATION, 1, "x", "com.err"]),
    ("cancel options a list", [CANCEL, 1, []]),
    ("cancel mode unknown", [CANCEL, 1, {"mode": "explode"}]),
    ("goodbye reason a number", [GOODBYE, {}, 5]),
    ("goodbye details a list", [GOODBYE, [], "wamp.close.close_realm"]),
    ("call receive_progress a string", [CALL, 1, {"receive_progress": "yes"}, "com.p"]),
    ("publish exclude_me a number", [PUBLISH, 1, {"exclude_me": 0}, "com.t"]),
]


class Violations(WireCase):
    def check(self, protocol, before, msg):
        ws = self.open(protocol)
        if not before:
            ws.hello()
        ws.send(msg)
        self.assert_abort(ws)


def make(name, protocol, before, msg):
    def test(self):
        self.check(protocol, before, msg)
    test.__name__ = "test_%s_%s_%s" % ("before" if before else "after",
                                       protocol.split(".")[-1], name.replace(" ", "_"))
    return test


for proto in ("wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"):
    for name, m in BEFORE_HELLO:
        t = make(name, proto, True, m)
        setattr(Violations, t.__name__, t)
    for name, m in AFTER_WELCOME:
        if not proto.endswith("json") and isinstance(m, dict):
            continue
        t = make(name, proto, False, m)
        setattr(Violations, t.__name__, t)


class MalformedBytes(WireCase):
    CASES_JSON = [
        ("truncated", b'[48, 1, {}, "com.p"'),
        ("trailing garbage", b'[48, 1, {}, "com.p"] x'),
        ("bad literal", b'[48, 1, {}, "p", [tru]]'),
        ("lone surrogate", b'[48, 1, {}, "\\ud800"]'),
        ("raw control char", b'[48, 1, {}, "a\x01b"]'),
        ("non-string key", b'[48, 1, {1: 2}, "p"]'),
        ("deep nesting", b'[48, 1, {}, "p", ' + b"[" * 80 + b"]" * 80 + b"]"),
        ("nul in uri", b'[48, 1, {}, "com\\u0000p"]'),
        ("huge number id", b'[48, 1e400, {}, "com.p"]'),
        ("exponent id", b'[48, 1e3, {}, "com.p"]'),
        ("empty", b''),
        ("whitespace only", b'   '),
        ("bare string", b'"hello"'),
        ("duplicate type", b'[48, 48, 1, {}, "com.p"]'),
    ]
    CASES_MSGPACK = [
        ("truncated", b"\x94\x30\x01\x80"),
        ("reserved byte", b"\x95\x30\x01\x80\xa1p\x91\xc1"),
        ("huge str length", b"\x94\x30\x01\x80\xdb\xff\xff\xff\xff"),
        ("huge array count", b"\x95\x30\x01\x80\xa1p\xdd\xff\xff\xff\xff"),
        ("not an array", b"\x81\xa1a\x01"),
        ("trailing", b"\x94\x30\x01\x80\xa1p\x00"),
        ("deep nesting", b"\x95\x30\x01\x80\xa1p" + b"\x91" * 80 + b"\x01"),
        ("invalid utf-8 uri", b"\x94\x30\x01\x80\xa2\xff\xfe"),
        ("huge map count", b"\x94\x30\x01\xdf\xff\xff\xff\xff"),
        ("integer key in options", b"\x94\x30\x01\x81\x01\x02\xa1p"),
        ("float id", b"\x94\x30\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\x80\xa1p"),
        ("negative id", b"\x94\x30\xff\x80\xa1p"),
        ("uint64 max id", b"\x94\x30\xcf\xff\xff\xff\xff\xff\xff\xff\xff\x80\xa1p"),
        ("empty", b""),
    ]

    def check_json(self, name, data):
        ws = self.session("wamp.2.json")
        ws.send_text(data.decode("utf-8"))
        if name == "nul in uri":
            # a NUL is valid JSON: it is the URI that is refused
            self.assert_error(ws, CALL, 1, "wamp.error.invalid_uri")
            ws.close()
            return
        self.assert_abort(ws)

    CASES_CBOR = [
        ("truncated", b"\x84\x18\x30\x01\xa0"),
        ("reserved additional info", b"\x85\x18\x30\x01\xa0\x61p\x9c"),
        ("huge text length", b"\x84\x18\x30\x01\xa0\x7b\xff\xff\xff\xff\xff\xff\xff\xff"),
        ("huge array count", b"\x85\x18\x30\x01\xa0\x61p\x9b\xff\xff\xff\xff\xff\xff\xff\xff"),
        ("not an array", b"\xa1\x61a\x01"),
        ("trailing", b"\x84\x18\x30\x01\xa0\x61p\x00"),
        ("deep nesting", b"\x85\x18\x30\x01\xa0\x61p" + b"\x81" * 80 + b"\x01"),
        ("invalid utf-8 uri", b"\x84\x18\x30\x01\xa0\x62\xff\xfe"),
        ("stray break", b"\x84\x18\x30\x01\xa0\xff"),
        ("integer key in options", b"\x84\x18\x30\x01\xa1\x01\x02\x61p"),
    ]

    def check_binary(self, protocol, data):
        ws = self.session(protocol)
        ws.send_binary(data)
        self.assert_abort(ws)

    def test_text_frame_on_cbor_session(self):
        ws = self.session("wamp.2.cbor")
        ws.send_text('[48, 1, {}, "com.p"]')
        self.assert_abort(ws)

    def test_binary_frame_on_json_session(self):
        ws = self.session("wamp.2.json")
        ws.send_binary(b'[48, 1, {}, "com.p"]')
        self.assert_abort(ws)

    def test_text_frame_on_msgpack_session(self):
        ws = self.session("wamp.2.msgpack")
        ws.send_text('[48, 1, {}, "com.p"]')
        self.assert_abort(ws)

    def test_invalid_utf8_text_frame(self):
        ws = self.session("wamp.2.json")
        ws.send_frame(1, b'[16, 1, {}, "a\xff"]')
        self.assertEqual(ws.expect_close(), 1007)
        ws.close()

    def test_reused_request_id_while_pending(self):
        callee = self.session()
        callee.send([REGISTER, 1, {}, "com.slow"])
        self.assertEqual(callee.recv()[0], REGISTERED)
        caller = self.session()
        caller.send([CALL, 7, {}, "com.slow"])
        self.assertEqual(callee.recv()[0], INVOCATION)
        caller.send([CALL, 7, {}, "com.slow"])
        self.assert_abort(caller)
        callee.close()


# one test per malformed message, so the witness is checked after each
def make_malformed(ser, name, data):
    if ser == "json":
        def test(self):
            self.check_json(name, data)
    else:
        def test(self):
            self.check_binary("wamp.2." + ser, data)
    test.__name__ = "test_malformed_%s_%s" % (ser, name.replace(" ", "_").replace("-", "_"))
    return test


for ser, cases in (("json", MalformedBytes.CASES_JSON), ("msgpack", MalformedBytes.CASES_MSGPACK),
                   ("cbor", MalformedBytes.CASES_CBOR)):
    for name, data in cases:
        t = make_malformed(ser, name, data)
        setattr(MalformedBytes, t.__name__, t)


if __name__ == "__main__":
    unittest.main()
