"""Autobahn|Python (Twisted) against wampd: the Advanced Profile features of issue #4.

    WAMPD_BIN=... /usr/bin/python3 test_advanced.py json|msgpack
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))

from autobahn.wamp import message  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import (CallOptions, PublishOptions, RegisterOptions,  # noqa: E402
                                 SubscribeOptions)
from twisted.internet import defer, reactor, task  # noqa: E402

from wampclient import ChildClient, connect, expect_error, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"

CONFIG = {
    "realms": [{"name": "realm1",
                "event_history": [{"uri": "com.hist.", "match": "prefix", "limit": 5}]},
               {"name": "slow", "call_timeout": 300}],  # a realm-wide default call timeout
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
    # a wildcard subscription gets the topic too
    wild = defer.Deferred()
    yield sub.subscribe(lambda v, details=None: wild.called or wild.callback((v, details.topic)),
                        "com..temp", options=SubscribeOptions(match="wildcard", details_arg="details"))
    yield pub.publish("com.room1.temp", 20, options=PublishOptions(acknowledge=True))
    assert (yield wait_for(wild, 5, "wildcard event")) == (20, "com.room1.temp")
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


def raw_cancel(caller, d, mode):
    """CANCEL the call d (the newest of caller) in `mode`, keeping it pending in Autobahn so
    the router's answer settles it. (Autobahn|Python's own d.cancel() sends no mode and
    forgets the call at once.)"""
    request = max(caller._call_reqs)
    assert caller._call_reqs[request].on_reply is d
    caller._transport.send(message.Cancel(request, mode=mode))


@defer.inlineCallbacks
def cancel_modes(url):
    """CANCEL skip / killnowait / kill against an Autobahn|Python callee (which announces
    call_canceling): skip does not INTERRUPT and drops the callee's late YIELD; killnowait
    INTERRUPTs and answers the caller at once; kill INTERRUPTs and the caller gets the
    callee's answer to the INTERRUPT."""
    callee = yield connect(url, "realm1", SER)
    caller = yield connect(url, "realm1", SER)
    state = {}

    def slow(tag):
        started, interrupted = state[tag]
        d = defer.Deferred(lambda d: (interrupted.callback(True),
                                      d.errback(ApplicationError("com.adv.interrupted", tag))))
        state[tag] = (started, interrupted, d)
        started.callback(True)
        return d
    yield callee.register(slow, "com.adv.cancelme")
    yield callee.register(lambda: "alive", "com.adv.alive")
    for mode in ("skip", "killnowait", "kill"):
        started, interrupted = defer.Deferred(), defer.Deferred()
        state[mode] = (started, interrupted)
        call = caller.call("com.adv.cancelme", mode)
        yield wait_for(started, 5, "invocation (%s)" % mode)
        raw_cancel(caller, call, mode)
        if mode == "kill":
            # the router waits for the callee, which is interrupted and answers
            yield wait_for(interrupted, 5, "INTERRUPT (kill)")
            yield expect_error(wait_for(call, 5, "the callee's answer (kill)"), "com.adv.interrupted")
        else:
            yield expect_error(wait_for(call, 5, "ERROR (%s)" % mode), "wamp.error.canceled")
            if mode == "killnowait":
                yield wait_for(interrupted, 5, "INTERRUPT (killnowait)")
            else:
                # skip: no INTERRUPT; the callee answers late and the answer is dropped
                yield caller.call("com.adv.alive")  # a round trip after the CANCEL
                assert not interrupted.called, "skip must not INTERRUPT"
                state[mode][2].callback("late")
        # nothing reaches the caller after its ERROR (Autobahn would take a RESULT or ERROR
        # for a forgotten request for a protocol violation)
        assert (yield caller.call("com.adv.alive")) == "alive"
        assert (yield callee.call("com.adv.alive")) == "alive"
    assert not caller.protocol_errors and not callee.protocol_errors, \
        (caller.protocol_errors, callee.protocol_errors)
    yield caller.leave_and_check()
    yield callee.leave_and_check()


@defer.inlineCallbacks
def realm_call_timeout(url):
    """The realm's default call timeout (300 ms in realm "slow") applies to calls that give
    none: the caller gets wamp.error.timeout and the callee an INTERRUPT."""
    callee = yield connect(url, "slow", SER)
    caller = yield connect(url, "slow", SER)
    interrupted = defer.Deferred()
    yield callee.register(lambda: defer.Deferred(lambda _: interrupted.called or
                                                 interrupted.callback(True)), "com.adv.hang")
    yield expect_error(wait_for(caller.call("com.adv.hang"), 5, "timeout"), "wamp.error.timeout")
    yield wait_for(interrupted, 5, "INTERRUPT after the timeout")
    yield caller.leave_and_wait()
    yield callee.leave_and_wait()


@defer.inlineCallbacks
def shared_policies(url):
    """Each invocation policy over 3 callees: single refuses a second callee; first/last
    pick the oldest/newest callee (and the next one when it leaves); roundrobin is fair;
    random reaches every callee; policies cannot be mixed on one URI."""
    caller = yield connect(url, "realm1", SER)
    for policy in ("single", "first", "last", "roundrobin", "random"):
        uri = "com.adv.policy." + policy
        callees = []
        for i in range(3):
            s = yield connect(url, "realm1", SER)
            if policy == "single" and i > 0:
                yield expect_error(s.register(lambda: 9, uri, options=RegisterOptions(invoke=policy)),
                                   "wamp.error.procedure_already_exists")
            else:
                yield s.register(lambda i=i: i, uri, options=RegisterOptions(invoke=policy))
            callees.append(s)
        other = "roundrobin" if policy != "roundrobin" else "first"
        yield expect_error(callees[0].register(lambda: 9, uri, options=RegisterOptions(invoke=other)),
                           "wamp.error.procedure_already_exists")
        n = 60 if policy == "random" else 30
        counts = [0, 0, 0]
        for _ in range(n):
            counts[(yield caller.call(uri))] += 1
        expected = {"single": [30, 0, 0], "first": [30, 0, 0], "last": [0, 0, 30],
                    "roundrobin": [10, 10, 10]}.get(policy)
        if expected:
            assert counts == expected, (policy, counts)
        else:
            assert all(c > 0 for c in counts), (policy, counts)  # fails with p ~ 1e-10
        if policy in ("first", "last"):
            gone = 0 if policy == "first" else 2
            yield callees[gone].leave_and_wait()
            assert (yield caller.call(uri)) == 1, policy
            callees[gone] = None
        for s in callees:
            if s:
                yield s.leave_and_wait()
        yield expect_error(caller.call(uri), "wamp.error.no_such_procedure")
    yield caller.leave_and_wait()


@defer.inlineCallbacks
def blackwhite_authid(url):
    """Black and white listing by authid and authrole (anonymous sessions get a random
    authid of their own); the session id lists are in pubsub_advanced."""
    pub = yield connect(url, "realm1", SER)
    subs = []
    for _ in range(3):
        subs.append((yield connect(url, "realm1", SER)))
    got = [[] for _ in subs]
    for i, s in enumerate(subs):
        yield s.subscribe(lambda v, i=i: got[i].append(v), "com.bw.t")
    ids = [s.details.authid for s in subs]
    assert len(set(ids)) == 3, ids
    cases = [("ex_authid", dict(exclude_authid=[ids[0]]), [False, True, True]),
             ("el_authid", dict(eligible_authid=[ids[1], "nobody"]), [False, True, False]),
             ("el_authid_ex", dict(eligible_authid=ids[:2], exclude=[subs[1].details.session]),
              [True, False, False]),
             ("ex_role", dict(exclude_authrole=["anonymous"]), [False, False, False]),
             ("el_role", dict(eligible_authrole=["nobody"]), [False, False, False])]
    for tag, opts, expected in cases:
        yield pub.publish("com.bw.t", tag, options=PublishOptions(acknowledge=True, **opts))
    # a sentinel to everyone: all earlier events have been delivered when it arrives
    done = [defer.Deferred() for _ in subs]
    for i, s in enumerate(subs):
        yield s.subscribe(lambda i=i: done[i].called or done[i].callback(True), "com.bw.end")
    yield pub.publish("com.bw.end", options=PublishOptions(acknowledge=True))
    for d in done:
        yield wait_for(d, 5, "sentinel")
    for i in range(3):
        assert got[i] == [t for t, _, e in cases if e[i]], (i, got[i])
    for s in subs + [pub]:
        yield s.leave_and_wait()


TESTATOR = """
yield s.call("wamp.session.add_testament", "com.will", ["gone", s.details.session], {})
print("ready", flush=True)
"""


@defer.inlineCallbacks
def testament_on_kill(url):
    heir = yield connect(url, "realm1", SER)
    will = defer.Deferred()
    yield heir.subscribe(lambda *a: will.called or will.callback(a), "com.will")
    testator = ChildClient(TESTATOR, url, SER)
    assert (yield testator.next_line(10, "the testator to set its testament")) == "ready"
    testator.kill()  # no goodbye
    args = yield wait_for(will, 5, "the testament")
    assert args[0] == "gone", args
    yield heir.leave_and_wait()


@defer.inlineCallbacks
def main():
    with WampdProcess(config=CONFIG) as r:
        for scenario in (progressive_results, call_canceling, call_timeout,
                         pattern_registrations, shared_registration, pubsub_advanced,
                         retention_and_history, meta_api, testament_on_kill, cancel_modes,
                         realm_call_timeout, shared_policies, blackwhite_authid):
            print("scenario:", scenario.__name__, SER, flush=True)
            yield wait_for(scenario(r.url), 30, scenario.__name__)


if __name__ == "__main__":
    run(main, timeout=180)
