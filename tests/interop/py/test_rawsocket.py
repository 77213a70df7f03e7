"""Autobahn|Python (Twisted) over WAMP-over-RawSocket against wampd: TCP on the universal
port (shared with WebSocket) and a Unix domain socket; RPC with binary payloads, PubSub,
errors, and sessions on RawSocket and WebSocket talking to each other.

    WAMPD_BIN=... /usr/bin/python3 test_rawsocket.py json|msgpack
"""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))

from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import CallResult, PublishOptions  # noqa: E402
from twisted.internet import defer  # noqa: E402

from wampclient import connect, expect_error, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"
OTHER = "msgpack" if SER == "json" else "json"
SOCK = os.path.join(tempfile.mkdtemp(prefix="wampd-interop-"), "wampd.sock")


@defer.inlineCallbacks
def rpc_pubsub(rs_url, ws_url):
    callee = yield connect(rs_url, "realm1", SER)
    caller = yield connect(ws_url, "realm1", OTHER)  # WebSocket, the other serializer
    yield callee.register(lambda *a, **kw: CallResult(*a, **kw), "com.rs.echo")
    r = yield caller.call("com.rs.echo", 1, "two", b"\x00\x01\xfe\xff", k={"x": [None]})
    assert list(r.results) == [1, "two", b"\x00\x01\xfe\xff"], r.results
    assert r.kwresults == {"k": {"x": [None]}}, r.kwresults

    def fail():
        raise ApplicationError("com.rs.error.nope", "no")
    yield callee.register(fail, "com.rs.fail")
    yield expect_error(caller.call("com.rs.fail"), "com.rs.error.nope")
    yield expect_error(callee.call("com.rs.none"), "wamp.error.no_such_procedure")

    got = defer.Deferred()
    yield callee.subscribe(lambda *a: got.called or got.callback(a), "com.rs.news")
    yield caller.publish("com.rs.news", "hello", b"\xff", options=PublishOptions(acknowledge=True))
    args = yield wait_for(got, 5, "EVENT over RawSocket")
    assert list(args) == ["hello", b"\xff"], args
    # the meta API sees the RawSocket transport
    info = yield caller.call("wamp.session.get", callee._session_id)
    assert info["transport"]["type"] == "rawsocket", info
    yield caller.leave_and_wait()
    yield callee.leave_and_wait()


@defer.inlineCallbacks
def unix_socket(rs_url, ws_url):
    a = yield connect("unix:" + SOCK, "realm1", SER)
    b = yield connect(rs_url, "realm1", SER)
    yield a.register(lambda x, y: x * y, "com.unix.mul")
    assert (yield b.call("com.unix.mul", 6, 7)) == 42
    n = yield a.call("wamp.session.count")
    assert n >= 2, n
    yield b.leave_and_wait()
    yield a.leave_and_wait()


@defer.inlineCallbacks
def main():
    router = WampdProcess(config={
        "listeners": [{"type": "universal", "port": 0},
                      {"type": "rawsocket", "unix": SOCK}],
        "realms": [{"name": "realm1"}]}).start()
    try:
        ws_url = router.url
        rs_url = "rs://127.0.0.1:%d" % router.port
        yield rpc_pubsub(rs_url, ws_url)
        yield unix_socket(rs_url, ws_url)
    finally:
        router.stop()


run(main, timeout=60)
