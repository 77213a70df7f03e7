"""Autobahn|Python (Twisted) against wampd: the Advanced Profile features of issue #4.

    WAMPD_BIN=... /usr/bin/python3 test_advanced.py json|msgpack
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))

from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import (CallOptions, PublishOptions, RegisterOptions,  # noqa: E402
                                 SubscribeOptions)
from twisted.internet import defer, reactor, task  # noqa: E402

from wampclient import connect, expect_error, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"

CONFIG = {
    "realms": [{"name": "realm1",
                "event_history": [{"uri": "com.hist.", "match": "prefix", "limit": 5}]}],
}


def sleep(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


@defer.inlineCallbacks
def progressive_results(url):
    callee = yield connect(url, "realm1", SER)
    caller = yield connect(url, "realm1", SER)

    def count(n, details=None):
        for i in range(n):
            if details.progress:
                details.progress(i, square=i * i)
        return "done"
    yield callee.register(count, "com.adv.count", options=RegisterOptions(details_arg="details"))
    chunks = []
    r = yield caller.call("com.adv.count", 4,
                          options=CallOptions(on_progress=lambda i, square: chunks.append((i, square))))
    assert r == "done", r
    assert chunks == [(0, 0), (1, 1), (2, 4), (3, 9)], chunks
    yield caller.leave_and_wait()
    yield callee.leave_and_wait()


@defer.inlineCallbacks
def call_canceling(url):
    """CANCEL (Autobahn's default mode, killnowait at the router): the caller's call fails,
    the callee's invocation is interrupted (Autobahn|Python callees support INTERRUPT)."""
    callee = yield connect(url, "realm1", SER)
    caller = yield connect(url, "realm1", SER)
    interrupted = defer.Deferred()
    started = defer.Deferred()

    def slow():
        started.callback(True)
        return defer.Deferred(lambda _: interrupted.called or interrupted.callback(True))
    yield callee.register(slow, "com.adv.slow")
    yield callee.register(lambda: "alive", "com.adv.alive")
    call = caller.call("com.adv.slow")
    yield wait_for(started, 5, "invocation")
    call.cancel()
    try:
        yield call
        raise AssertionError("a canceled call returned")
    except (defer.CancelledError, ApplicationError):
        pass
    yield wait_for(interrupted, 5, "INTERRUPT at the callee")
    assert (yield caller.call("com.adv.alive")) == "alive"
    yield caller.leave_and_wait()
    yield callee.leave_and_wait()


@defer.inlineCallbacks
def call_timeout(url):
    callee = yield connect(url, "realm1", SER)
    caller = yield connect(url, "realm1", SER)
    yield callee.register(lambda: defer.Deferred(), "com.adv.hang")
    yield expect_error(caller.call("com.adv.hang", options=CallOptions(timeout=300)),
                       "wamp.error.timeout")
    yield caller.leave_and_wait()
    yield callee.leave_and_wait()


@defer.inlineCallbacks
def pattern_registrations(url):
    a = yield connect(url, "realm1", SER)
    b = yield connect(url, "realm1", SER)
    caller = yield connect(url, "realm1", SER)
    yield a.register(lambda details=None: ["prefix", details.procedure], "com.pat.",
                     options=RegisterOptions(match="prefix", details_arg="details"))
    yield b.register(lambda details=None: ["wildcard", details.procedure], "com..get",
                     options=RegisterOptions(match="wildcard", details_arg="details"))
    yield b.register(lambda: ["exact", None], "com.pat.exact")
    assert (yield caller.call("com.pat.exact")) == ["exact", None]
    assert (yield caller.call("com.pat.x.y")) == ["prefix", "com.pat.x.y"]
    assert (yield caller.call("com.users.get")) == ["wildcard", "com.users.get"]
    yield expect_error(caller.call("com.users.put"), "wamp.error.no_such_procedure")
    for s in (a, b, caller):
        yield s.leave_and_wait()


@defer.inlineCallbacks
def shared_registration(url):
    callees = []
    for i in range(3):
        s = yield connect(url, "realm1", SER)
        yield s.register(lambda i=i: i, "com.adv.shared", options=RegisterOptions(invoke="roundrobin"))
        callees.append(s)
    other = yield connect(url, "realm1", SER)
    yield expect_error(other.register(lambda: 9, "com.adv.shared",
                                      options=RegisterOptions(invoke="random")),
                       "wamp.error.procedure_already_exists")
    caller = yield connect(url, "realm1", SER)
    counts = [0, 0, 0]
    for _ in range(30):
        counts[(yield caller.call("com.adv.shared"))] += 1
    assert counts == [10, 10, 10], counts
    yield callees[1].leave_and_wait()
    seen = set()
    for _ in range(4):
        seen.add((yield caller.call("com.adv.shared")))
    assert seen == {0, 2}, seen
    for s in (callees[0], callees[2], other, caller):
        yield s.leave_and_wait()


@defer.inlineCallbacks
def pubsub_advanced(url):
    sub = yield connect(url, "realm1", SER)
    pub = yield connect(url, "realm1", SER)
    events = []
    got = {}

    def on_event(*args, details=None):
        events.append((args, details.topic, details.publisher))
        key = args[0]
        if key in got and not got[key].called:
            got[key].callback(True)

    def expect(key):
        got[key] = defer.Deferred()
        return got[key]
    yield sub.subscribe(on_event, "com.pub.", options=SubscribeOptions(match="prefix",
                                                                        details_arg="details"))
    e = expect("a")
    # (Autobahn|Python 22 cannot ask for disclosure: identification is in the JS test)
    yield pub.publish("com.pub.x", "a", options=PublishOptions(acknowledge=True))
    yield wait_for(e, 5, "pattern event")
    assert events[-1] == (("a",), "com.pub.x", None), events[-1]
    # publisher exclusion off: the publisher gets its own event
    own = defer.Deferred()
    yield pub.subscribe(lambda v: own.called or own.callback(v), "com.selfie")
    yield pub.publish("com.selfie", "me", options=PublishOptions(acknowledge=True,
                                                                   exclude_me=False))
    assert (yield wait_for(own, 5, "own event")) == "me"
    # black and white listing by session id
    n = len(events)
    yield pub.publish("com.pub.x", "hidden", options=PublishOptions(
        acknowledge=True, exclude=[sub.details.session]))
    e = expect("shown")
    yield pub.publish("com.pub.x", "shown", options=PublishOptions(
        acknowledge=True, eligible=[sub.details.session]))
    yield wait_for(e, 5, "eligible event")
    assert [ev[0][0] for ev in events[n:]] == ["shown"], events[n:]
    e = expect("role")
    yield pub.publish("com.pub.x", "role", options=PublishOptions(
        acknowledge=True, eligible_authrole=["anonymous"], exclude_authrole=["admin"]))
    yield wait_for(e, 5, "role-listed event")
    yield sub.leave_and_wait()
    yield pub.leave_and_wait()


@defer.inlineCallbacks
def retention_and_history(url):
    pub = yield connect(url, "realm1", SER)
    yield pub.publish("com.state.temp", 21, options=PublishOptions(acknowledge=True, retain=True))
    yield pub.publish("com.state.temp", 22, options=PublishOptions(acknowledge=True, retain=True))
    late = yield connect(url, "realm1", SER)
    got = defer.Deferred()
    yield late.subscribe(lambda v, details=None: got.called or got.callback((v, details.retained)),
                         "com.state.temp",
                         options=SubscribeOptions(get_retained=True, details_arg="details"))
    assert (yield wait_for(got, 5, "retained event")) == (22, True)
    for i in range(7):
        yield pub.publish("com.hist.log", i, options=PublishOptions(acknowledge=True))
    sub_id = yield late.call("wamp.subscription.lookup", "com.hist.", {"match": "prefix"})
    events = yield late.call("wamp.subscription.get_events", sub_id, limit=3)
    assert [e["args"][0] for e in events] == [4, 5, 6], events
    assert all(e["topic"] == "com.hist.log" for e in events)
    yield late.leave_and_wait()
    yield pub.leave_and_wait()


@defer.inlineCallbacks
def meta_api(url):
    watcher = yield connect(url, "realm1", SER)
    joined, left, registered = defer.Deferred(), defer.Deferred(), defer.Deferred()
    yield watcher.subscribe(lambda d: joined.called or joined.callback(d), "wamp.session.on_join")
    yield watcher.subscribe(lambda sid, authid, authrole: left.called or left.callback(sid),
                            "wamp.session.on_leave")
    yield watcher.subscribe(lambda sid, rid: registered.called or registered.callback((sid, rid)),
                            "wamp.registration.on_register")
    s = yield connect(url, "realm1", SER)
    info = yield wait_for(joined, 5, "on_join")
    assert info["session"] == s.details.session and info["authrole"] == "anonymous", info
    assert (yield watcher.call("wamp.session.count")) >= 2
    assert s.details.session in (yield watcher.call("wamp.session.list"))
    got = yield watcher.call("wamp.session.get", s.details.session)
    assert got["authid"] == s.details.authid, got
    reg = yield s.register(lambda: 1, "com.meta.proc")
    sid, rid = yield wait_for(registered, 5, "on_register")
    assert (sid, rid) == (s.details.session, reg.id)
    # visible through the procedures by the time the event arrived
    assert (yield watcher.call("wamp.registration.lookup", "com.meta.proc")) == reg.id
    assert (yield watcher.call("wamp.registration.list_callees", reg.id)) == [s.details.session]
    assert (yield watcher.call("wamp.registration.count_callees", reg.id)) == 1
    yield expect_error(watcher.call("wamp.session.get", 1), "wamp.error.no_such_session")
    yield s.leave_and_wait()
    assert (yield wait_for(left, 5, "on_leave")) == s.details.session
    # kill
    victim = yield connect(url, "realm1", SER)
    yield watcher.call("wamp.session.kill", victim.details.session, reason="com.meta.bye",
                       message="go")
    details = yield wait_for(victim.left, 5, "killed session to leave")
    assert details.reason == "com.meta.bye", details
    yield watcher.leave_and_wait()


TESTATOR = r"""
import sys
sys.path.insert(0, %r)
from twisted.internet import defer
from wampclient import connect, run
@defer.inlineCallbacks
def main():
    s = yield connect(%r, "realm1", %r)
    yield s.call("wamp.session.add_testament", "com.will", ["gone", s.details.session], {})
    print("ready", flush=True)
    yield defer.Deferred()
run(main, timeout=60)
"""


@defer.inlineCallbacks
def testament_on_kill(url):
    heir = yield connect(url, "realm1", SER)
    will = defer.Deferred()
    yield heir.subscribe(lambda *a: will.called or will.callback(a), "com.will")
    proc = subprocess.Popen([sys.executable, "-c", TESTATOR % (
        os.path.join(HERE, "..", "..", "lib"), url, SER)], stdout=subprocess.PIPE)
    ready = defer.Deferred()
    reactor.callInThread(lambda: b"ready" in proc.stdout.readline() and
                         reactor.callFromThread(ready.callback, True))
    yield wait_for(ready, 10, "the testator to set its testament")
    proc.kill()  # no goodbye
    args = yield wait_for(will, 5, "the testament")
    assert args[0] == "gone", args
    proc.wait()
    yield heir.leave_and_wait()


@defer.inlineCallbacks
def main():
    with WampdProcess(config=CONFIG) as r:
        for scenario in (progressive_results, call_canceling, call_timeout,
                         pattern_registrations, shared_registration, pubsub_advanced,
                         retention_and_history, meta_api, testament_on_kill):
            print("scenario:", scenario.__name__, SER, flush=True)
            yield wait_for(scenario(r.url), 30, scenario.__name__)


if __name__ == "__main__":
    run(main, timeout=180)
