"""Autobahn|Python (Twisted) against wampd: the meta API of issue #4.

Every meta procedure and every meta event with the spec's argument shapes
(advanced/session_meta_api.md, rpc_registration_meta_api.md,
pubsub_subscription_meta_api.md, pubsub_testament.md), and "no meta event before the state
it announces is visible through the procedures": each event handler calls a procedure at
once, from inside the handler, and the test asserts that call saw the new state.

    WAMPD_BIN=... /usr/bin/python3 test_meta.py json|msgpack
"""

import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))

from autobahn.wamp import role  # noqa: E402
from autobahn.wamp.types import PublishOptions, RegisterOptions, SubscribeOptions  # noqa: E402
from twisted.internet import defer  # noqa: E402

from wampclient import ChildClient, connect, expect_error, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"

CONFIG = {
    "listeners": [{"auth": {
        "anonymous": {"type": "static", "role": "anonymous"},
        "ticket": {"type": "static", "principals": {
            "joe": {"ticket": "t", "role": "worker"},
            "ann": {"ticket": "t", "role": "worker"},
            "boss": {"ticket": "t", "role": "admin"}}}}}],
    "realms": [{"name": "realm1",
                "event_history": [{"uri": "com.meta.hist.", "match": "prefix", "limit": 5}]}],
}


def ticket(authid):
    return dict(authmethods=["ticket"], authid=authid, secret="t")


def roles_without_revocation():
    roles = dict(role.DEFAULT_CLIENT_ROLES)
    roles["subscriber"] = role.RoleSubscriberFeatures(publisher_identification=True,
                                                      pattern_based_subscription=True)
    return roles


def sid(s):
    return s.details.session


def error_of(d):
    """d's result as {"result": r}, or its ApplicationError URI as {"error": uri}."""
    return d.addCallbacks(lambda r: {"result": r},
                          lambda f: {"error": getattr(f.value, "error", str(f.value))})


def assert_iso_time(s, what):
    assert isinstance(s, str) and s.endswith("Z"), (what, s)
    t = datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    age = abs((datetime.datetime.utcnow() - t).total_seconds())
    assert age < 60, (what, s)


class Watcher:
    """Subscribes a session to meta topics. Each event runs its probe synchronously inside
    the handler (the probe's calls leave before any later message is processed); events
    and what their probes saw are queued until take() finds them."""

    def __init__(self, session):
        self.s = session
        self.queue = []  # [topic, args, Deferred of what the probe saw]
        self.waiters = []

    @defer.inlineCallbacks
    def watch(self, topic, probe=None):
        def on_event(*args):
            seen = defer.maybeDeferred(probe, *args) if probe else defer.succeed(None)
            self.queue.append([topic, args, seen])
            for w in list(self.waiters):
                w()
        yield self.s.subscribe(on_event, topic)

    def take(self, topic, pred, what):
        d = defer.Deferred()

        def check():
            for i, e in enumerate(self.queue):
                if e[0] == topic and pred(e[1]):
                    del self.queue[i]
                    self.waiters.remove(check)
                    e[2].addCallback(lambda seen: d.called or d.callback((e[1], seen)))
                    return
        self.waiters.append(check)
        check()
        return wait_for(d, 5, "meta event %s: %s" % (topic, what))

    def about(self, session_id):
        return [e[0] for e in self.queue
                if e[1] and (e[1][0] == session_id or
                             (isinstance(e[1][0], dict) and e[1][0].get("session") == session_id))]

    def settle(self):
        """Every event the router sent before now has arrived: a round trip."""
        return self.s.call("wamp.session.count")


@defer.inlineCallbacks
def session_meta(url):
    w = yield connect(url, "realm1", SER)
    m = Watcher(w)
    yield m.watch("wamp.session.on_join", lambda d: defer.gatherResults([
        w.call("wamp.session.get", d["session"]), w.call("wamp.session.list")]))
    yield m.watch("wamp.session.on_leave", lambda s, authid, authrole: defer.gatherResults([
        error_of(w.call("wamp.session.get", s)), w.call("wamp.session.list")]))

    s = yield connect(url, "realm1", SER, **ticket("joe"))
    S = sid(s)
    args, (got, listed) = yield m.take("wamp.session.on_join", lambda a: a[0]["session"] == S,
                                       "joe joined")
    assert len(args) == 1, args
    d = args[0]
    assert (d["session"], d["authid"], d["authrole"], d["authmethod"]) == \
        (S, "joe", "worker", "ticket"), d
    assert d["authprovider"] == s.details.authprovider, d
    assert "transport" not in d or isinstance(d["transport"], dict), d
    assert (got["session"], got["authid"], got["authrole"]) == (S, "joe", "worker"), got
    assert S in listed, listed

    assert sorted((yield w.call("wamp.session.list"))) == sorted([sid(w), S])
    assert (yield w.call("wamp.session.count")) == 2
    assert (yield w.call("wamp.session.count", ["worker"])) == 1
    assert (yield w.call("wamp.session.count", ["nobody", "anonymous"])) == 1
    assert (yield w.call("wamp.session.list", ["worker"])) == [S]
    assert (yield w.call("wamp.session.list", ["nobody"])) == []
    yield expect_error(w.call("wamp.session.get", 4242), "wamp.error.no_such_session")
    yield expect_error(w.call("wamp.session.get", "x"), "wamp.error.invalid_argument")

    yield s.leave_and_wait()
    args, (got, listed) = yield m.take("wamp.session.on_leave", lambda a: a[0] == S, "joe left")
    assert list(args) == [S, "joe", "worker"], args
    assert got == {"error": "wamp.error.no_such_session"}, got
    assert S not in listed, listed
    yield m.settle()
    assert m.about(S) == [], m.about(S)
    yield w.leave_and_check()


@defer.inlineCallbacks
def session_kill(url):
    boss = yield connect(url, "realm1", SER, **ticket("boss"))
    m = Watcher(boss)
    yield m.watch("wamp.session.on_leave",
                  lambda s, *_: error_of(boss.call("wamp.session.get", s)))

    v = yield connect(url, "realm1", SER)
    yield expect_error(boss.call("wamp.session.kill", sid(boss)), "wamp.error.no_such_session")
    yield expect_error(boss.call("wamp.session.kill", sid(v), reason="not a uri"),
                       "wamp.error.invalid_uri")
    yield boss.call("wamp.session.kill", sid(v), reason="com.meta.bye", message="go")
    details = yield wait_for(v.left, 5, "the killed session to close")
    assert (details.reason, details.message) == ("com.meta.bye", "go"), details
    _, seen = yield m.take("wamp.session.on_leave", lambda a: a[0] == sid(v), "killed one")
    assert seen == {"error": "wamp.error.no_such_session"}, seen

    joes = []
    for _ in range(3):
        joes.append((yield connect(url, "realm1", SER, **ticket("joe"))))
    ann = yield connect(url, "realm1", SER, **ticket("ann"))
    killed = yield joes[0].call("wamp.session.kill_by_authid", "joe", reason="com.meta.joes")
    # Crossbar's shape (the killed session ids); the spec text says a count: see the report
    assert sorted(killed) == sorted([sid(j) for j in joes[1:]]), killed
    for j in joes[1:]:
        details = yield wait_for(j.left, 5, "a joe to be killed")
        assert details.reason == "com.meta.joes", details
    assert sorted((yield boss.call("wamp.session.list", ["worker"]))) == \
        sorted([sid(joes[0]), sid(ann)])

    n = yield boss.call("wamp.session.kill_by_authrole", "worker", reason="com.meta.role",
                        message="workers out")
    assert n == 2, n
    for s in (ann, joes[0]):
        details = yield wait_for(s.left, 5, "a worker to be killed")
        assert (details.reason, details.message) == ("com.meta.role", "workers out"), details
    assert (yield boss.call("wamp.session.kill_by_authrole", "worker")) == 0

    rest = [(yield connect(url, "realm1", SER)), (yield connect(url, "realm1", SER, **ticket("boss")))]
    yield expect_error(boss.call("wamp.session.kill_all", reason="bad uri!"),
                       "wamp.error.invalid_uri")
    assert (yield boss.call("wamp.session.kill_all", reason="com.meta.all")) == 2
    for s in rest:
        details = yield wait_for(s.left, 5, "kill_all")
        assert details.reason == "com.meta.all", details
    assert (yield boss.call("wamp.session.list")) == [sid(boss)]
    yield boss.leave_and_check()


TESTATOR = """
yield s.call("wamp.session.add_testament", "com.meta.will", ["destroyed", s.details.session],
             {"k": 1})
yield s.call("wamp.session.add_testament", "com.meta.will", ["flushed"], {}, scope="detached")
n = yield s.call("wamp.session.flush_testaments", scope="detached")
yield s.call("wamp.session.add_testament", "com.meta.will", ["detached"], {}, scope="detached")
print("ready", n, flush=True)
"""


@defer.inlineCallbacks
def testaments(url):
    heir = yield connect(url, "realm1", SER)
    wills = []
    two = defer.Deferred()

    def on_will(*args, **kwargs):
        wills.append((args, kwargs))
        if len(wills) == 2:
            two.callback(True)
    yield heir.subscribe(on_will, "com.meta.will")
    yield expect_error(heir.call("wamp.session.add_testament", "com.meta.will", [], {},
                                 scope="forever"), "wamp.error.invalid_argument")
    testator = ChildClient(TESTATOR, url, SER)
    line = yield testator.next_line(10, "the testator to set its testaments")
    assert line == "ready 1", line  # flush_testaments counted the flushed one
    testator.kill()  # no GOODBYE, no close
    yield wait_for(two, 5, "both testaments")
    sentinel = defer.Deferred()
    yield heir.subscribe(lambda: sentinel.called or sentinel.callback(True), "com.meta.sentinel")
    pub = yield connect(url, "realm1", SER)
    yield pub.publish("com.meta.sentinel", options=PublishOptions(acknowledge=True))
    yield wait_for(sentinel, 5, "sentinel")
    assert [w[0][0] for w in wills] == ["detached", "destroyed"], wills
    assert wills[1][1] == {"k": 1}, wills
    yield pub.leave_and_wait()
    yield heir.leave_and_wait()


@defer.inlineCallbacks
def registration_meta(url):
    w = yield connect(url, "realm1", SER)
    m = Watcher(w)
    yield m.watch("wamp.registration.on_create", lambda s, d: defer.gatherResults([
        w.call("wamp.registration.get", d["id"]),
        w.call("wamp.registration.lookup", d["uri"], {"match": d["match"]})]))
    yield m.watch("wamp.registration.on_register", lambda s, r: defer.gatherResults([
        w.call("wamp.registration.list_callees", r), w.call("wamp.registration.count_callees", r)]))
    yield m.watch("wamp.registration.on_unregister",
                  lambda s, r: error_of(w.call("wamp.registration.list_callees", r)))
    yield m.watch("wamp.registration.on_delete", lambda s, r: defer.gatherResults([
        error_of(w.call("wamp.registration.get", r)), w.call("wamp.registration.list")]))

    a = yield connect(url, "realm1", SER)
    b = yield connect(url, "realm1", SER)
    A, B = sid(a), sid(b)
    reg = yield a.register(lambda: "a", "com.meta.proc", options=RegisterOptions(invoke="roundrobin"))
    args, (got, looked) = yield m.take("wamp.registration.on_create", lambda x: x[0] == A, "a creates")
    assert len(args) == 2, args
    rd = args[1]
    assert (rd["id"], rd["uri"], rd["match"], rd["invoke"]) == \
        (reg.id, "com.meta.proc", "exact", "roundrobin"), rd
    assert_iso_time(rd["created"], "RegistrationDetails.created")
    assert got == rd, (got, rd)
    assert looked == reg.id, looked
    args, seen = yield m.take("wamp.registration.on_register", lambda x: x[0] == A, "a registers")
    assert list(args) == [A, reg.id], args
    assert seen == [[A], 1], seen

    yield b.register(lambda: "b", "com.meta.proc", options=RegisterOptions(invoke="roundrobin"))
    args, (callees, count) = yield m.take("wamp.registration.on_register", lambda x: x[0] == B,
                                          "b registers")
    assert list(args) == [B, reg.id] and sorted(callees) == sorted([A, B]) and count == 2, \
        (args, callees, count)
    yield m.settle()
    assert m.about(B) == [], m.about(B)

    pre = yield a.register(lambda: "p", "com.meta.pre.", options=RegisterOptions(match="prefix"))
    wild = yield a.register(lambda: "w", "com..meta", options=RegisterOptions(match="wildcard"))
    lists = yield w.call("wamp.registration.list")
    assert lists == {"exact": [reg.id], "prefix": [pre.id], "wildcard": [wild.id]}, lists
    assert (yield w.call("wamp.registration.lookup", "com.meta.proc")) == reg.id
    assert (yield w.call("wamp.registration.lookup", "com.meta.pre.", {"match": "prefix"})) == pre.id
    assert (yield w.call("wamp.registration.lookup", "com..meta", {"match": "wildcard"})) == wild.id
    assert (yield w.call("wamp.registration.lookup", "com.meta.pre.")) is None
    assert (yield w.call("wamp.registration.match", "com.meta.proc")) == reg.id
    assert (yield w.call("wamp.registration.match", "com.meta.pre.x")) == pre.id
    assert (yield w.call("wamp.registration.match", "com.x.meta")) == wild.id
    assert (yield w.call("wamp.registration.match", "org.none")) is None
    g = yield w.call("wamp.registration.get", wild.id)
    assert (g["id"], g["uri"], g["match"], g["invoke"]) == (wild.id, "com..meta", "wildcard",
                                                           "single"), g
    for proc in ("get", "list_callees", "count_callees"):
        yield expect_error(w.call("wamp.registration." + proc, 4242),
                           "wamp.error.no_such_registration")
    assert (yield w.call("wamp.registration.lookup", "wamp.session.count")) is None

    yield a._registrations[reg.id].unregister()
    args, seen = yield m.take("wamp.registration.on_unregister",
                              lambda x: x[0] == A and x[1] == reg.id, "a unregisters")
    assert list(args) == [A, reg.id] and seen == {"result": [B]}, (args, seen)
    yield m.settle()
    assert "wamp.registration.on_delete" not in m.about(A)

    # revocation through the meta API (Autobahn|Python logs the UNREGISTERED it is sent)
    yield w.call("wamp.registration.remove_callee", reg.id, B, reason="com.meta.moved")
    args, seen = yield m.take("wamp.registration.on_unregister", lambda x: x[0] == B, "b removed")
    assert list(args) == [B, reg.id] and seen == {"error": "wamp.error.no_such_registration"}, \
        (args, seen)
    args, (got, lists) = yield m.take("wamp.registration.on_delete", lambda x: x[1] == reg.id,
                                      "deleted")
    assert list(args) == [B, reg.id], args
    assert got == {"error": "wamp.error.no_such_registration"}, got
    assert reg.id not in lists["exact"], lists
    yield expect_error(b.call("com.meta.proc"), "wamp.error.no_such_procedure")
    yield expect_error(w.call("wamp.registration.remove_callee", 4242, B),
                       "wamp.error.no_such_registration")

    yield a.leave_and_wait()
    for r in (pre, wild):
        u, _ = yield m.take("wamp.registration.on_unregister", lambda x: x[1] == r.id, "a left")
        d, (got, _) = yield m.take("wamp.registration.on_delete", lambda x: x[1] == r.id, "a left")
        assert list(u) == [A, r.id] and list(d) == [A, r.id], (u, d)
        assert got == {"error": "wamp.error.no_such_registration"}, got
    yield b.leave_and_wait()
    yield w.leave_and_check()


@defer.inlineCallbacks
def subscription_meta(url):
    w = yield connect(url, "realm1", SER)
    m = Watcher(w)
    yield m.watch("wamp.subscription.on_create", lambda s, d: defer.gatherResults([
        w.call("wamp.subscription.get", d["id"]),
        w.call("wamp.subscription.lookup", d["uri"], {"match": d["match"]})]))
    yield m.watch("wamp.subscription.on_subscribe", lambda s, i: defer.gatherResults([
        w.call("wamp.subscription.list_subscribers", i),
        w.call("wamp.subscription.count_subscribers", i)]))
    yield m.watch("wamp.subscription.on_unsubscribe",
                  lambda s, i: error_of(w.call("wamp.subscription.list_subscribers", i)))
    yield m.watch("wamp.subscription.on_delete", lambda s, i: defer.gatherResults([
        error_of(w.call("wamp.subscription.get", i)), w.call("wamp.subscription.list")]))

    # Autobahn|Python 22.7 announces subscription_revocation but takes the UNSUBSCRIBED the
    # router then sends for a protocol violation: a announces the roles without it
    a = yield connect(url, "realm1", SER, roles=roles_without_revocation())
    b = yield connect(url, "realm1", SER)
    A, B = sid(a), sid(b)
    sub = yield a.subscribe(lambda *x: None, "com.meta.topic")
    args, (got, looked) = yield m.take("wamp.subscription.on_create", lambda x: x[0] == A, "a creates")
    sd = args[1]
    assert len(args) == 2 and (sd["id"], sd["uri"], sd["match"]) == \
        (sub.id, "com.meta.topic", "exact"), args
    assert_iso_time(sd["created"], "SubscriptionDetails.created")
    assert got == sd and looked == sub.id, (got, looked)
    args, seen = yield m.take("wamp.subscription.on_subscribe", lambda x: x[0] == A, "a subscribes")
    assert list(args) == [A, sub.id] and seen == [[A], 1], (args, seen)

    sub_b = yield b.subscribe(lambda *x: None, "com.meta.topic")
    assert sub_b.id == sub.id
    args, (subs, count) = yield m.take("wamp.subscription.on_subscribe", lambda x: x[0] == B,
                                       "b subscribes")
    assert sorted(subs) == sorted([A, B]) and count == 2, (subs, count)
    yield m.settle()
    assert m.about(B) == [], m.about(B)

    pre = yield a.subscribe(lambda *x: None, "com.meta.hist.", options=SubscribeOptions(match="prefix"))
    wild = yield a.subscribe(lambda *x: None, "com..topic", options=SubscribeOptions(match="wildcard"))
    lists = yield w.call("wamp.subscription.list")
    assert sorted(lists) == ["exact", "prefix", "wildcard"], lists
    assert sub.id in lists["exact"] and lists["prefix"] == [pre.id] and \
        lists["wildcard"] == [wild.id], lists
    assert (yield w.call("wamp.subscription.lookup", "com.meta.topic")) == sub.id
    assert (yield w.call("wamp.subscription.lookup", "com.meta.hist.", {"match": "prefix"})) == pre.id
    assert (yield w.call("wamp.subscription.lookup", "com..topic", {"match": "wildcard"})) == wild.id
    assert (yield w.call("wamp.subscription.lookup", "com.meta.nothing")) is None
    assert sorted((yield w.call("wamp.subscription.match", "com.meta.topic"))) == \
        sorted([sub.id, wild.id])
    assert (yield w.call("wamp.subscription.match", "com.meta.hist.x")) == [pre.id]
    assert (yield w.call("wamp.subscription.match", "org.none")) is None
    g = yield w.call("wamp.subscription.get", pre.id)
    assert (g["id"], g["uri"], g["match"]) == (pre.id, "com.meta.hist.", "prefix"), g
    for proc in ("get", "list_subscribers", "count_subscribers", "get_events"):
        yield expect_error(w.call("wamp.subscription." + proc, 4242),
                           "wamp.error.no_such_subscription")

    for i in range(7):
        yield b.publish("com.meta.hist.odd" if i % 2 else "com.meta.hist.even", i, n=i,
                        options=PublishOptions(acknowledge=True))
    evs = yield w.call("wamp.subscription.get_events", pre.id, limit=3)
    assert [e["args"][0] for e in evs] == [4, 5, 6], evs
    for e in evs:
        assert e["subscription"] == pre.id and e["kwargs"] == {"n": e["args"][0]}, e
        assert 1 <= e["publication"] <= 2 ** 53, e
        assert_iso_time(e["timestamp"], "event timestamp")
    assert [e["args"][0] for e in (yield w.call("wamp.subscription.get_events", pre.id))] == \
        [2, 3, 4, 5, 6]
    assert [e["args"][0] for e in (yield w.call("wamp.subscription.get_events", pre.id, limit=2,
                                                reverse=True))] == [6, 5]
    assert [e["args"][0] for e in (yield w.call("wamp.subscription.get_events", pre.id,
                                                topic="com.meta.hist.odd"))] == [3, 5]

    yield sub.unsubscribe()
    args, seen = yield m.take("wamp.subscription.on_unsubscribe",
                              lambda x: x[0] == A and x[1] == sub.id, "a unsubscribes")
    assert list(args) == [A, sub.id] and seen == {"result": [B]}, (args, seen)
    yield m.settle()
    assert "wamp.subscription.on_delete" not in m.about(A)

    # the last subscriber leaves: on_unsubscribe, then on_delete
    yield b.leave_and_wait()
    args, seen = yield m.take("wamp.subscription.on_unsubscribe", lambda x: x[0] == B, "b left")
    assert list(args) == [B, sub.id] and seen == {"error": "wamp.error.no_such_subscription"}, \
        (args, seen)
    args, (got, lists) = yield m.take("wamp.subscription.on_delete", lambda x: x[1] == sub.id,
                                      "deleted")
    assert list(args) == [B, sub.id], args
    assert got == {"error": "wamp.error.no_such_subscription"}, got
    assert sub.id not in lists["exact"], lists

    # revocation through the meta API: the subscriber is removed (on_unsubscribe, and
    # on_delete as the last one); a did not announce subscription_revocation, so it is not
    # told, but gets no more events
    yield w.call("wamp.subscription.remove_subscriber", wild.id, A, reason="com.meta.out")
    args, _ = yield m.take("wamp.subscription.on_unsubscribe", lambda x: x[1] == wild.id, "removed")
    assert list(args) == [A, wild.id], args
    args, (got, _) = yield m.take("wamp.subscription.on_delete", lambda x: x[1] == wild.id,
                                  "removed, deleted")
    assert list(args) == [A, wild.id] and got == {"error": "wamp.error.no_such_subscription"}, got
    yield expect_error(w.call("wamp.subscription.remove_subscriber", 4242, A),
                       "wamp.error.no_such_subscription")
    yield a.leave_and_wait()

    # the history subscription outlives its subscribers (it existed before them too)
    args, _ = yield m.take("wamp.subscription.on_unsubscribe", lambda x: x[1] == pre.id, "a left")
    yield m.settle()
    about_pre = [e[0] for e in m.queue
                 if pre.id in (e[1][1], e[1][1].get("id") if isinstance(e[1][1], dict) else None)]
    assert about_pre == ["wamp.subscription.on_subscribe"], about_pre
    assert (yield w.call("wamp.subscription.count_subscribers", pre.id)) == 0
    yield w.leave_and_check()


@defer.inlineCallbacks
def main():
    with WampdProcess(config=CONFIG) as r:
        for scenario in (session_meta, session_kill, testaments, registration_meta,
                         subscription_meta):
            print("scenario:", scenario.__name__, SER, flush=True)
            yield wait_for(scenario(r.url), 30, scenario.__name__)


if __name__ == "__main__":
    run(main, timeout=170)
