"""Autobahn|Python (Twisted) against wampd: the Basic Profile scenarios of issue #3, plus a
JSON <-> MessagePack cross-serializer check and a callee killed with SIGKILL.

    WAMPD_BIN=... /usr/bin/python3 test_basic.py json|msgpack
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))

from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import (CallResult, PublishOptions,  # noqa: E402
                                 SubscribeOptions)
from twisted.internet import defer  # noqa: E402

from wampclient import ChildClient, JoinFailed, connect, expect_error, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"
OTHER = "msgpack" if SER == "json" else "json"


@defer.inlineCallbacks
def rpc_args_kwargs_binary(url):
    callee = yield connect(url, "realm1", SER)
    caller = yield connect(url, "realm1", SER)
    yield callee.register(lambda *a, **kw: CallResult(*a, **kw), "com.example.echo")
    r = yield caller.call("com.example.echo", 1, "two", {"three": 3}, b"\x00\x01\xfe\xff",
                          k=[True, None], n=1.5)
    assert list(r.results) == [1, "two", {"three": 3}, b"\x00\x01\xfe\xff"], r.results
    assert r.kwresults == {"k": [True, None], "n": 1.5}, r.kwresults
    yield callee.register(lambda x, y: x + y, "com.example.add2")
    assert (yield caller.call("com.example.add2", 20, 22)) == 42
    yield caller.leave_and_wait()
    yield callee.leave_and_wait()


@defer.inlineCallbacks
def callee_error(url):
    callee = yield connect(url, "realm1", SER)
    caller = yield connect(url, "realm1", SER)

    def fail(x):
        raise ApplicationError("com.example.error.bad_input", "why", 7, field="x")
    yield callee.register(fail, "com.example.fail")
    try:
        yield caller.call("com.example.fail", 1)
        raise AssertionError("no error")
    except ApplicationError as e:
        assert e.error == "com.example.error.bad_input", e.error
        assert list(e.args) == ["why", 7], e.args
        assert e.kwargs == {"field": "x"}, e.kwargs
    yield caller.leave_and_wait()
    yield callee.leave_and_wait()


@defer.inlineCallbacks
def pubsub_acknowledge(url):
    sub = yield connect(url, "realm1", SER)
    pub = yield connect(url, "realm1", SER)
    got = defer.Deferred()
    own = []
    yield sub.subscribe(lambda *a, **kw: got.called or got.callback((a, kw)), "com.example.topic")
    yield pub.subscribe(lambda *a, **kw: own.append(a), "com.example.topic")
    p = yield pub.publish("com.example.topic", "hello", n=1,
                          options=PublishOptions(acknowledge=True))
    assert 1 <= p.id <= 2 ** 53
    args, kwargs = yield wait_for(got, 5, "event")
    assert args == ("hello",) and kwargs == {"n": 1}, (args, kwargs)
    yield pub.publish("com.example.topic", 2, options=PublishOptions(acknowledge=True))
    assert own == [], own
    yield pub.leave_and_wait()
    yield sub.leave_and_wait()


@defer.inlineCallbacks
def unsubscribe_stops(url):
    s = yield connect(url, "realm1", SER)
    pub = yield connect(url, "realm1", SER)
    stale = []
    sentinel = defer.Deferred()
    subscription = yield s.subscribe(lambda *a: stale.append(a), "com.example.a")
    yield s.subscribe(lambda *a: sentinel.called or sentinel.callback(True), "com.example.sentinel")
    yield subscription.unsubscribe()
    yield pub.publish("com.example.a", 1, options=PublishOptions(acknowledge=True))
    yield pub.publish("com.example.sentinel", 1, options=PublishOptions(acknowledge=True))
    yield wait_for(sentinel, 5, "sentinel")
    assert stale == [], stale
    yield pub.leave_and_wait()
    yield s.leave_and_wait()


def raw_request(session, kind, id_):
    """Send UNREGISTER/UNSUBSCRIBE for an id the library considers gone."""
    from autobahn.wamp import message
    from autobahn.wamp.request import UnregisterRequest, UnsubscribeRequest
    request = session._request_id_gen.next()
    d = defer.Deferred()
    if kind == "unregister":
        session._unregister_reqs[request] = UnregisterRequest(request, d, id_)
        session._transport.send(message.Unregister(request, id_))
    else:
        session._unsubscribe_reqs[request] = UnsubscribeRequest(request, d, id_)
        session._transport.send(message.Unsubscribe(request, id_))
    return d


@defer.inlineCallbacks
def error_uris(url):
    a = yield connect(url, "realm1", SER)
    b = yield connect(url, "realm1", SER)
    yield expect_error(a.call("com.example.nobody"), "wamp.error.no_such_procedure")
    reg = yield a.register(lambda: 1, "com.example.taken")
    yield expect_error(b.register(lambda: 2, "com.example.taken"),
                       "wamp.error.procedure_already_exists")
    # Autobahn|Python checks URI syntax itself; the router's own refusal shows with the
    # reserved wamp. namespace, which only the router knows
    yield expect_error(a.register(lambda: 0, "wamp.example"), "wamp.error.invalid_uri")
    yield expect_error(a.publish("wamp.example", options=PublishOptions(acknowledge=True)),
                       "wamp.error.invalid_uri")
    # unregistering twice / unsubscribing twice (the library would not send it: send it raw)
    yield reg.unregister()
    yield expect_error(raw_request(a, "unregister", reg.id), "wamp.error.no_such_registration")
    sub = yield a.subscribe(lambda: 0, "com.example.once")
    yield sub.unsubscribe()
    yield expect_error(raw_request(a, "unsubscribe", sub.id), "wamp.error.no_such_subscription")
    yield a.leave_and_wait()
    yield b.leave_and_wait()


@defer.inlineCallbacks
def cross_serializer(url):
    x = yield connect(url, "realm1", SER)
    y = yield connect(url, "realm1", OTHER)
    yield y.register(lambda data: [type(data).__name__, len(data), data], "com.example.bytes")
    r = yield x.call("com.example.bytes", b"\x01\x02\x03")
    assert r == ["bytes", 3, b"\x01\x02\x03"], r
    got = defer.Deferred()
    yield y.subscribe(lambda data: got.called or got.callback(data), "com.example.bin")
    yield x.publish("com.example.bin", b"\xff\x00", options=PublishOptions(acknowledge=True))
    assert (yield wait_for(got, 5, "event")) == b"\xff\x00"
    yield x.leave_and_wait()
    yield y.leave_and_wait()


CALLEE = """
def hang():
    print("invoked", flush=True)
    return defer.Deferred()
yield s.register(hang, "com.example.hang")
print("registered", flush=True)
"""


@defer.inlineCallbacks
def callee_killed(url):
    """A callee process killed with SIGKILL while it owes six calls to three callers: every
    pending call fails with wamp.error.canceled within a second of the kill."""
    callee = ChildClient(CALLEE, url, SER)
    callers = []
    for ser in (SER, OTHER, SER):
        callers.append((yield connect(url, "realm1", ser)))
    assert (yield callee.next_line(10, "the callee process to register")) == "registered"
    calls = [c.call("com.example.hang") for c in callers for _ in range(2)]
    for _ in range(6):
        assert (yield callee.next_line(10, "six INVOCATIONs at the callee")) == "invoked"
    callee.kill()  # no goodbye
    yield wait_for(defer.gatherResults([expect_error(c, "wamp.error.canceled") for c in calls],
                                       consumeErrors=True), 1, "six ERRORs within 1 s of SIGKILL")
    for c in callers:
        yield c.leave_and_wait()


@defer.inlineCallbacks
def unknown_realm(url):
    try:
        s = yield connect(url, "no.such.realm", SER)
    except JoinFailed as e:
        assert e.reason == "wamp.error.no_such_realm", e.reason
        return
    yield s.leave_and_wait()
    raise AssertionError("joined an unknown realm")


@defer.inlineCallbacks
def main():
    with WampdProcess() as r:
        for scenario in (rpc_args_kwargs_binary, callee_error, pubsub_acknowledge,
                         unsubscribe_stops, error_uris, cross_serializer, callee_killed,
                         unknown_realm):
            print("scenario:", scenario.__name__, SER, flush=True)
            yield wait_for(scenario(r.url), 30, scenario.__name__)


if __name__ == "__main__":
    run(main, timeout=120)
