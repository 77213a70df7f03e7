"""libwampc against the real wampd, with Autobahn|Python on the other side.

A small C program built on the library (tests/client/interop_peer.c) joins wampd over
RawSocket (the POSIX adapter) or WebSocket (the libwebsockets adapter, libwampc-ws) in the
serializer under test (JSON, MessagePack or CBOR) and is driven by an
Autobahn|Python session on WebSocket (in the other serializer) through WAMP itself: the
test publishes commands to com.c.cmd and reads what the peer reports on com.c.*. Covered,
both directions: calls (results, progressive results, errors, a local timeout, cancel,
no such procedure), registrations (echo of the payload's bytes, progressive yields,
errors, a pattern registration with the procedure and the caller in the details, an
INTERRUPT), subscriptions (exact, prefix, wildcard, retained events), publications
(acknowledged, exclude/eligible lists, exclude_me), unsubscribing; then the connection is
cut under the peer by a proxy that also refuses it for a while: the peer reconnects with
backoff, its registrations and subscriptions are restored, and the publications it made
while offline arrive after the new WELCOME, in order. Then: the peer driven from the
application's own loop (RawSocket: a Unix socket and its poll loop; WebSocket: its own
libwebsockets context), and ticket, salted wampcra and cryptosign authentication (and a
wrong ticket refused). The peer must exit 0 every time (under ASan: no leak, no error).

    WAMPD_BIN=... WAMPC_PEER=... /usr/bin/python3 test_client_interop.py json|msgpack|cbor [rs|ws]
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)

from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import (CallOptions, CallResult, PublishOptions,  # noqa: E402
                                 RegisterOptions)
from twisted.internet import defer  # noqa: E402

from clientlib import Cutter, Inbox, Peer  # noqa: E402
from wampclient import connect, expect_error, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"
TRANSPORT = sys.argv[2] if len(sys.argv) > 2 else "rs"
OTHER = "msgpack" if SER == "json" else "json"
PEER = os.environ.get("WAMPC_PEER")
TMP = tempfile.mkdtemp(prefix="wampc-interop-")
SOCK = os.path.join(TMP, "wampd.sock")
ALICE_SEED = bytes(range(32))
ALICE_PUB = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
AUTH = {
    "ticket": {"type": "static", "principals": {"dev-1": {"ticket": "t-dev-1", "role": "device"}}},
    "wampcra": {"type": "static", "users": {
        "salty": {"password": "pw", "salt": "pepper", "iterations": 50, "keylen": 32,
                  "role": "user"}}},
    "cryptosign": {"type": "static", "principals": {
        "alice": {"authorized_keys": [ALICE_PUB], "role": "user"}}},
}
BIN = b"\x00\x01\xfe\xff"


def start_peer(*args):
    return Peer.spawn(PEER, "--serializer", SER, *args)


@defer.inlineCallbacks
def rpc_from_c(py, inbox, cmd):
    """The C peer calls Autobahn|Python's procedures."""
    interrupted = defer.Deferred()
    started = defer.Deferred()

    def countdown(n, details=None):
        for i in range(n, 0, -1):
            details.progress(i)
        return "liftoff"

    def fail():
        raise ApplicationError("com.py.error.x", "why")

    def sleep():
        started.called or started.callback(True)
        return defer.Deferred(lambda _: interrupted.called or interrupted.callback(True))

    yield py.register(lambda a, b: a + b, "com.py.add")
    yield py.register(countdown, "com.py.countdown", options=RegisterOptions(details_arg="details"))
    yield py.register(fail, "com.py.fail")
    yield py.register(sleep, "com.py.sleep")

    yield cmd("call", "add", "com.py.add", [2, 3], {})
    assert (yield inbox.get("com.c.reply"))[0] == ["add", None, False, [5], None]
    yield cmd("call", "cd", "com.py.countdown", [3], {}, receive_progress=True)
    for i in (3, 2, 1):
        assert (yield inbox.get("com.c.reply"))[0] == ["cd", None, True, [i], None]
    assert (yield inbox.get("com.c.reply"))[0] == ["cd", None, False, ["liftoff"], None]
    yield cmd("call", "fail", "com.py.fail", [], {})
    assert (yield inbox.get("com.c.reply"))[0] == ["fail", "com.py.error.x", False, ["why"], None]
    yield cmd("call", "miss", "com.py.missing", [], {})
    r = (yield inbox.get("com.c.reply"))[0]
    assert r[:2] == ["miss", "wamp.error.no_such_procedure"], r
    # a local timeout: the C caller reports it and cancels; the callee is interrupted
    yield cmd("call", "slow", "com.py.sleep", [], {}, timeout=300)
    yield wait_for(started, 5, "the invocation of com.py.sleep")
    r = (yield inbox.get("com.c.reply"))[0]
    assert r[:2] == ["slow", "wamp.error.timeout"], r
    yield wait_for(interrupted, 5, "INTERRUPT at the Python callee (timeout)")
    # cancel (killnowait: the router answers canceled at once; with kill it would pass on
    # what the interrupted callee answers, Autobahn's runtime_error)
    interrupted, started = defer.Deferred(), defer.Deferred()
    yield cmd("call", "cc", "com.py.sleep", [], {})
    yield wait_for(started, 5, "the invocation of com.py.sleep")
    yield cmd("cancel", "cc", "killnowait")
    r = (yield inbox.get("com.c.reply"))[0]
    assert r[:2] == ["cc", "wamp.error.canceled"], r
    yield wait_for(interrupted, 5, "INTERRUPT at the Python callee (cancel)")


@defer.inlineCallbacks
def rpc_to_c(py, inbox, cmd):
    """Autobahn|Python calls the C peer's procedures."""
    for tag, proc, mode, kw in (("echo", "com.c.echo", "echo", {}),
                                ("prog", "com.c.progress", "progress", {}),
                                ("fail", "com.c.fail", "fail", {}),
                                ("pat", "com.c.pat.", "proc", {"match": "prefix"}),
                                ("hang", "com.c.hang", "hang", {})):
        yield cmd("register", tag, proc, mode, **kw)
        ack = (yield inbox.get("com.c.ack"))[0]
        assert ack[0] == tag and ack[1] is None and ack[2] > 0, ack
    r = yield py.call("com.c.echo", 1, "two", BIN, k={"x": [None]})
    assert isinstance(r, CallResult), r
    assert list(r.results) == [1, "two", BIN], r.results
    assert r.kwresults == {"k": {"x": [None]}}, r.kwresults
    chunks = []
    r = yield py.call("com.c.progress", 3, options=CallOptions(on_progress=chunks.append))
    assert (chunks, r) == ([1, 2, 3], "done"), (chunks, r)
    yield expect_error(py.call("com.c.fail"), "com.c.error.nope")
    r = yield py.call("com.c.pat.zzz")
    assert list(r.results) == ["com.c.pat.zzz", py._session_id], r.results
    # the router's timeout interrupts the C callee
    yield expect_error(py.call("com.c.hang", options=CallOptions(timeout=300)),
                       "wamp.error.timeout")
    assert (yield inbox.get("com.c.interrupted"))[0][0] == "hang"


@defer.inlineCallbacks
def pubsub(py, inbox, cmd, c_session):
    ack = PublishOptions(acknowledge=True)
    for tag, topic, kw in (("news", "com.c.news", {}), ("pre", "com.py.", {"match": "prefix"}),
                           ("wild", "com..w", {"match": "wildcard"})):
        yield cmd("subscribe", tag, topic, **kw)
        assert (yield inbox.get("com.c.ack"))[0][:2] == [tag, None]
    yield py.publish("com.c.news", "hello", BIN, k=1, options=ack)
    ev = (yield inbox.get("com.c.event"))[0]
    assert ev == ["news", "com.c.news", False, 0, ["hello", BIN], {"k": 1}], ev
    raw = yield inbox.get("com.c.raw")  # the event's bytes, forwarded by the C peer
    assert raw == (["hello", BIN], {"k": 1}), raw
    yield py.publish("com.py.x.y", 7, options=ack)
    assert (yield inbox.get("com.c.event"))[0][:5] == ["pre", "com.py.x.y", False, 0, [7]]
    yield inbox.get("com.c.raw")
    yield py.publish("com.abc.w", 8, options=ack)
    assert (yield inbox.get("com.c.event"))[0][:5] == ["wild", "com.abc.w", False, 0, [8]]
    yield inbox.get("com.c.raw")
    # a retained event on subscribing
    yield py.publish("com.c.ret", 42, options=PublishOptions(acknowledge=True, retain=True))
    yield cmd("subscribe", "ret", "com.c.ret", get_retained=True)
    assert (yield inbox.get("com.c.ack"))[0][:2] == ["ret", None]
    assert (yield inbox.get("com.c.event"))[0][:5] == ["ret", "com.c.ret", True, 0, [42]]
    yield inbox.get("com.c.raw")
    # the C publisher: acknowledged, then exclude/eligible lists, then exclude_me
    yield py.subscribe(inbox.handler("com.py.in"), "com.py.in")
    yield cmd("publish", "p1", "com.py.in", ["a"], {"b": 2}, acknowledge=True)
    assert (yield inbox.get("com.py.in")) == (["a"], {"b": 2})
    r = (yield inbox.get("com.c.reply"))[0]
    assert r[:2] == ["p1", None] and r[2] > 0, r
    yield cmd("publish", "p2", "com.py.in", ["excluded"], {}, exclude=[py._session_id])
    yield cmd("publish", "p3", "com.py.in", ["not eligible"], {}, eligible=[c_session])
    yield cmd("publish", "p4", "com.py.in", ["eligible"], {}, eligible=[py._session_id])
    assert (yield inbox.get("com.py.in")) == (["eligible"], {})
    yield cmd("publish", "p5", "com.py.notme", [1], {})
    yield cmd("publish", "p6", "com.py.me", [2], {}, include_me=True)
    assert (yield inbox.get("com.c.event"))[0][:5] == ["pre", "com.py.me", False, 0, [2]]
    yield inbox.get("com.c.raw")
    # unsubscribed: nothing more for it
    yield cmd("unsubscribe", "news")
    assert (yield inbox.get("com.c.ack"))[0] == ["news", None, 0]
    yield py.publish("com.c.news", "gone", options=ack)
    yield py.publish("com.py.later", 9, options=ack)
    assert (yield inbox.get("com.c.event"))[0][:2] == ["pre", "com.py.later"]
    yield inbox.get("com.c.raw")


@defer.inlineCallbacks
def reconnect(py, inbox, cutter, peer, c_session):
    """Cut the link and refuse it twice; the peer comes back by itself."""
    cutter.refuse = True
    cutter.cut()
    line = yield peer.line_starting("left")
    assert line == "left wamp.close.transport_lost reconnecting", line
    for _ in range(2):  # two attempts refused, with backoff
        yield wait_for(cutter.refused.get(), 10, "a reconnect attempt")
    cutter.refuse = False
    hello = (yield inbox.get("com.c.hello"))[0]
    assert hello[0] != c_session, hello
    # what it published while offline, in order, after the new WELCOME
    for i in (1, 2, 3):
        assert (yield inbox.get("com.c.offline"))[0] == [i]
    # its registrations and subscriptions were made again, with their options (the
    # get_retained one gets the retained event again)
    assert (yield py.call("com.c.echo", "again")) == "again"
    yield py.publish("com.py.after", 1, options=PublishOptions(acknowledge=True))
    events = []
    while not events or events[-1][:2] != ["pre", "com.py.after"]:
        events.append((yield inbox.get("com.c.event"))[0])
        yield inbox.get("com.c.raw")
    assert [e[:3] for e in events] == [["ret", "com.c.ret", True], ["pre", "com.py.after", False]], events
    return hello[0]


@defer.inlineCallbacks
def own_loop(py, inbox, cmd, url):
    peer = start_peer("--url", url, "--own-loop")
    yield inbox.get("com.c.hello")
    yield cmd("register", "uecho", "com.c.uecho", "echo")
    assert (yield inbox.get("com.c.ack"))[0][:2] == ["uecho", None]
    r = yield py.call("com.c.uecho", BIN * 1000, k="v")
    assert list(r.results) == [BIN * 1000] and r.kwresults == {"k": "v"}, r
    yield cmd("leave")
    yield peer.line_starting("exit")
    yield peer.exit_ok()


@defer.inlineCallbacks
def authentication(url):
    cases = [(["--authmethods", "ticket", "--authid", "dev-1", "--ticket", "t-dev-1"],
              "dev-1 device ticket"),
             (["--authmethods", "wampcra", "--authid", "salty", "--secret", "pw"],
              "salty user wampcra"),
             (["--authmethods", "cryptosign", "--authid", "alice", "--seed", ALICE_SEED.hex()],
              "alice user cryptosign")]
    for args, who in cases:
        peer = start_peer("--url", url, "--exit-on-join", *args)
        line = yield peer.line_starting("joined")
        assert line.split(" ", 2)[2] == who, line
        yield peer.line_starting("exit")
        yield peer.exit_ok()
    for args in (["--authmethods", "ticket", "--authid", "dev-1", "--ticket", "wrong"],
                 ["--authmethods", "wampcra", "--authid", "salty", "--secret", "not-pw"]):
        peer = start_peer("--url", url, "--exit-on-join", *args)
        line = yield peer.line_starting("left")
        assert line == "left wamp.error.authentication_failed stopped", line
        yield peer.exit_ok()


@defer.inlineCallbacks
def main():
    router = WampdProcess(config={
        "listeners": [{"type": "universal", "port": 0},
                      {"type": "rawsocket", "unix": SOCK},
                      {"type": "universal", "port": 0, "auth": AUTH}],
        "realms": [{"name": "realm1"}]}).start()
    peer = None
    try:
        py = yield connect(router.url, "realm1", OTHER)
        inbox = Inbox()
        for t in ("com.c.reply", "com.c.ack", "com.c.event", "com.c.raw", "com.c.interrupted",
                  "com.c.hello", "com.c.offline"):
            yield py.subscribe(inbox.handler(t), t)

        def cmd(*args, **kw):
            return py.publish("com.c.cmd", *args, options=PublishOptions(acknowledge=True), **kw)

        cutter = Cutter(router.port)
        if TRANSPORT == "ws":
            via_cutter = "ws://127.0.0.1:%d%s" % (cutter.port, router.path)
        else:
            via_cutter = "rs://127.0.0.1:%d" % cutter.port
        peer = start_peer("--url", via_cutter, "--reconnect", "--offline")
        c_session = (yield inbox.get("com.c.hello"))[0][0]
        line = yield peer.line_starting("joined")
        assert line.split()[1] == str(c_session), line
        info = yield py.call("wamp.session.get", c_session)
        assert info["transport"]["type"] == {"rs": "rawsocket", "ws": "websocket"}[TRANSPORT], \
            info["transport"]
        yield rpc_from_c(py, inbox, cmd)
        yield rpc_to_c(py, inbox, cmd)
        yield pubsub(py, inbox, cmd, c_session)
        yield reconnect(py, inbox, cutter, peer, c_session)
        yield cmd("leave")
        yield peer.line_starting("exit")
        yield peer.exit_ok()
        peer = None
        yield own_loop(py, inbox, cmd, router.url_of("ws", 0) if TRANSPORT == "ws"
                       else "unix:" + SOCK)
        yield authentication(router.url_of(TRANSPORT, 1))
        yield py.leave_and_wait()
    finally:
        if peer is not None:
            peer.kill()
        router.stop()
        shutil.rmtree(TMP, ignore_errors=True)


if not PEER:
    sys.exit("WAMPC_PEER is not set (ctest sets it to the built interop_peer)")
run(main, timeout=150)
