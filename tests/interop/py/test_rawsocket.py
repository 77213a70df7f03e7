"""Autobahn|Python (Twisted) over WAMP-over-RawSocket against wampd: TCP on the universal
port (shared with WebSocket), a Unix domain socket, and TLS (Twisted's SSL client endpoint,
certificates made by the test) on a universal and a rawsocket-only TLS listener; RPC with
binary payloads, PubSub, errors, client certificates (the tls authentication method),
and sessions on RawSocket and WebSocket talking to each other.

    WAMPD_BIN=... /usr/bin/python3 test_rawsocket.py json|msgpack
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))

from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import CallResult, PublishOptions  # noqa: E402
from twisted.internet import defer  # noqa: E402

from tlscerts import make_certs, server_tls, twisted_options  # noqa: E402
from wampclient import JoinFailed, connect, expect_error, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"
OTHER = "msgpack" if SER == "json" else "json"
TMP = tempfile.mkdtemp(prefix="wampd-interop-")
SOCK = os.path.join(TMP, "wampd.sock")
CERTS = make_certs(TMP)
ALICE_SEED = bytes(range(32))
ALICE_PUB = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
AUTH = {"tls": {"type": "static", "principals": {"device-7": {"role": "device"}}},
        "cryptosign": {"type": "static", "principals": {
            "alice": {"authorized_keys": [ALICE_PUB], "role": "user"}}},
        "anonymous": {"type": "static", "role": "public"}}


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
def tls(router, ws_url):
    """rss:// on the universal TLS port and on the rawsocket-only TLS port."""
    universal, rawonly = router.url_of("rss", 0), router.url_of("rss", 1)
    assert router.url_of("wss").startswith(universal.replace("rss://", "wss://")), router.urls
    ws = yield connect(ws_url, "realm1", OTHER)
    for url in (universal, rawonly):
        url = url.replace("127.0.0.1", "localhost")
        anon = yield connect(url, "realm1", SER, tls=twisted_options(CERTS))
        assert anon.details.authmethod == "anonymous", anon.details.authmethod
        dev = yield connect(url, "realm1", SER, tls=twisted_options(CERTS, "client"),
                            authmethods=["tls"])
        assert (dev.details.authmethod, dev.details.authid, dev.details.authrole) == \
            ("tls", "device-7", "device"), dev.details
        reg = yield dev.register(lambda *a, **kw: CallResult(*a, **kw), "com.tls.echo")
        r = yield anon.call("com.tls.echo", b"\x00\xff" * 3000, "z", k=[1.5])
        assert list(r.results) == [b"\x00\xff" * 3000, "z"], r.results
        assert r.kwresults == {"k": [1.5]}, r.kwresults
        # a WebSocket session (plain, the other serializer) calls the TLS callee
        r = yield ws.call("com.tls.echo", b"\x01")
        assert r == b"\x01", r
        yield expect_error(dev.call("com.tls.none"), "wamp.error.no_such_procedure")
        got = defer.Deferred()
        yield anon.subscribe(lambda *a: got.called or got.callback(a), "com.tls.news")
        yield ws.publish("com.tls.news", "over tls", options=PublishOptions(acknowledge=True))
        args = yield wait_for(got, 5, "EVENT over RawSocket+TLS")
        assert list(args) == ["over tls"], args
        info = yield ws.call("wamp.session.get", dev._session_id)
        assert info["transport"]["type"] == "rawsocket", info
        yield reg.unregister()
        yield dev.leave_and_wait()
        yield anon.leave_and_wait()
        # cryptosign bound to this TLS channel (tls-unique) over RawSocket; a signature
        # bound to another channel is refused
        alice = yield connect(url, "realm1", SER, tls=twisted_options(CERTS),
                              authmethods=["cryptosign"], authid="alice",
                              cryptosign_seed=ALICE_SEED, channel_binding="tls-unique")
        assert (alice.details.authmethod, alice.details.authrole) == ("cryptosign", "user")
        yield alice.leave_and_wait()
        try:
            s = yield connect(url, "realm1", SER, tls=twisted_options(CERTS),
                              authmethods=["cryptosign"], authid="alice",
                              cryptosign_seed=ALICE_SEED, channel_binding="tls-unique",
                              channel_id=bytes(32))
            raise AssertionError("a signature bound to another channel joined")
        except JoinFailed as e:
            assert e.reason == "wamp.error.authentication_failed", e.reason
        # same CN, another CA: refused in the TLS handshake
        try:
            s = yield connect(url, "realm1", SER, tls=twisted_options(CERTS, "rogue"))
            raise AssertionError("a certificate from another CA joined as %s"
                                 % s.details.authid)
        except JoinFailed as e:
            assert e.reason in ("transport closed", "connect failed"), e
    yield ws.leave_and_wait()


@defer.inlineCallbacks
def main():
    router = WampdProcess(config={
        "listeners": [{"type": "universal", "port": 0},
                      {"type": "rawsocket", "unix": SOCK},
                      {"type": "universal", "port": 0, "tls": server_tls(CERTS), "auth": AUTH},
                      {"type": "rawsocket", "port": 0, "tls": server_tls(CERTS), "auth": AUTH}],
        "realms": [{"name": "realm1"}]}).start()
    try:
        ws_url = router.url
        rs_url = "rs://127.0.0.1:%d" % router.port
        yield rpc_pubsub(rs_url, ws_url)
        yield unix_socket(rs_url, ws_url)
        yield tls(router, ws_url)
    finally:
        router.stop()
        shutil.rmtree(TMP, ignore_errors=True)


run(main, timeout=60)
