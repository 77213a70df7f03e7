"""Autobahn|Python (Twisted) against three wampd nodes sharing a private Redis (issue #9).

    WAMPD_BIN=... /usr/bin/python3 test_cluster.py json|msgpack

Clients on different nodes do PubSub and RPC across nodes (the third node's clients use
the other serializer, so payloads are converted on the way), the meta API answers for the
cluster, then one node is SIGKILLed (its callees vanish, pending calls to it are canceled,
its testaments are published) and Redis is restarted empty (local traffic goes on; after
the reconnect every node's registrations and subscriptions work across nodes again).
Resumable sessions (docs/resumption.md): a session detached on one node is resumed there,
with what other nodes published meanwhile; a resume that reaches another node gets an
ordinary new session (resumed false), and the first node's session is left alone.
Every wait has a deadline.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import (CallOptions, PublishOptions, RegisterOptions,  # noqa: E402
                                 SubscribeOptions)
from twisted.internet import defer, threads  # noqa: E402

from cluster_proc import Cluster  # noqa: E402
from wampclient import connect, expect_error, run, wait_for  # noqa: E402
from wsraw import WS  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"
OTHER = "msgpack" if SER == "json" else "json"
TTL_MS = 1500


class Collector:
    """A handler that records its calls; wait(n) fires once n calls arrived."""

    def __init__(self):
        self.items = []
        self._waiters = []

    def __call__(self, *args, **kwargs):
        kwargs.pop("details", None)
        self.items.append(args[0] if len(args) == 1 and not kwargs else (args, kwargs))
        self._check()

    def wait(self, n, what, timeout=5):
        d = defer.Deferred()
        self._waiters.append((n, d))
        self._check()
        return wait_for(d, timeout, "%s (%d of %d so far: %r)" % (what, len(self.items), n,
                                                                   self.items[-3:]))

    def _check(self):
        for n, d in list(self._waiters):
            if len(self.items) >= n:
                self._waiters.remove((n, d))
                d.callback(self.items)


def sessions(*pairs):
    return defer.gatherResults([connect(url, "realm1", ser) for url, ser in pairs])


@defer.inlineCallbacks
def leave(*ss):
    for s in ss:
        if s.is_connected():
            yield s.leave_and_wait()


@defer.inlineCallbacks
def pubsub_across_nodes(A, B, C):
    """Exactly once and in publisher order on every node; a node reached through an exact
    and a prefix subscription still delivers once per subscription; publisher exclusion
    and black/white lists hold across nodes."""
    pub, sb, sc = yield sessions((A, SER), (B, SER), (C, OTHER))
    on_b, on_c, on_c_prefix, on_pub = Collector(), Collector(), Collector(), Collector()
    yield sb.subscribe(on_b, "com.cl.ps.topic")
    yield sc.subscribe(on_c, "com.cl.ps.topic")
    yield sc.subscribe(on_c_prefix, "com.cl.ps", options=SubscribeOptions(match="prefix"))
    yield pub.subscribe(on_pub, "com.cl.ps.topic")
    n = 60
    for i in range(n):
        pub.publish("com.cl.ps.topic", i)
    yield pub.publish("com.cl.ps.topic", n, options=PublishOptions(acknowledge=True))
    yield on_b.wait(n + 1, "events on node B")
    yield on_c.wait(n + 1, "events on node C")
    yield on_c_prefix.wait(n + 1, "events on node C's prefix subscription")
    assert on_b.items == list(range(n + 1)), on_b.items
    assert on_c.items == list(range(n + 1)), on_c.items
    assert on_c_prefix.items == list(range(n + 1)), on_c_prefix.items

    # eligible (only B's session), exclude (C's session), exclude_me=False
    bid, cid = sb.details.session, sc.details.session
    yield pub.publish("com.cl.ps.topic", "b-only", options=PublishOptions(
        eligible=[bid], acknowledge=True))
    yield pub.publish("com.cl.ps.topic", "not-c", options=PublishOptions(
        exclude=[cid], exclude_me=False, acknowledge=True))
    yield pub.publish("com.cl.ps.topic", "end", options=PublishOptions(
        exclude_me=False, acknowledge=True))
    yield on_b.wait(n + 4, "listed events on B")
    yield on_c.wait(n + 2, "listed events on C")
    yield on_pub.wait(2, "events for the publisher itself")
    assert on_b.items[n + 1:] == ["b-only", "not-c", "end"], on_b.items[n + 1:]
    assert on_c.items[n + 1:] == ["end"], on_c.items[n + 1:]
    assert on_pub.items == ["not-c", "end"], on_pub.items  # excluded by default before
    yield leave(pub, sb, sc)


@defer.inlineCallbacks
def patterns_and_retained(A, B, C):
    pub, sb, sc = yield sessions((A, SER), (B, SER), (C, OTHER))
    wild, pre = Collector(), Collector()
    yield sb.subscribe(wild, "com.cl.pat..ev", options=SubscribeOptions(
        match="wildcard", details_arg="details"))
    yield sc.subscribe(pre, "com.cl.pat.", options=SubscribeOptions(match="prefix"))
    yield pub.publish("com.cl.pat.x.ev", "w1", options=PublishOptions(acknowledge=True))
    yield pub.publish("com.cl.pat.y.other", "p1", options=PublishOptions(acknowledge=True))
    yield wild.wait(1, "wildcard event on B")
    yield pre.wait(2, "prefix events on C")
    assert wild.items == ["w1"], wild.items
    assert pre.items == ["w1", "p1"], pre.items

    # retained: published on A, fetched by later subscribers on B (exact) and C (prefix)
    yield pub.publish("com.cl.ret.one", "kept", 1, options=PublishOptions(
        retain=True, acknowledge=True))
    late_b, late_c = Collector(), Collector()
    yield sb.subscribe(late_b, "com.cl.ret.one", options=SubscribeOptions(get_retained=True))
    yield sc.subscribe(late_c, "com.cl.ret", options=SubscribeOptions(
        match="prefix", get_retained=True))
    yield late_b.wait(1, "retained event on B")
    yield late_c.wait(1, "retained event on C (prefix)")
    assert late_b.items == [(("kept", 1), {})], late_b.items
    assert late_c.items == [(("kept", 1), {})], late_c.items
    yield leave(pub, sb, sc)


@defer.inlineCallbacks
def rpc_across_nodes(A, B, C):
    caller, cb, cc = yield sessions((A, SER), (B, SER), (C, OTHER))

    def oops():
        raise ApplicationError("com.cl.oops", "bad", code=7)

    def count(n, details=None):
        for i in range(n):
            details.progress(i)
        return "done"

    def who(details=None):
        return details.caller

    yield cb.register(lambda x, y: x + y, "com.cl.add")
    yield cb.register(oops, "com.cl.oops")
    yield cc.register(count, "com.cl.count", options=RegisterOptions(details_arg="details"))
    yield cc.register(who, "com.cl.who", options=RegisterOptions(details_arg="details"))
    assert (yield caller.call("com.cl.add", 2, 3)) == 5
    assert (yield cc.call("com.cl.add", "a", "b")) == "ab"  # from node C, other serializer
    try:
        yield caller.call("com.cl.oops")
        raise AssertionError("an ERROR from a remote callee came back as a result")
    except ApplicationError as e:
        assert e.error == "com.cl.oops" and e.args == ("bad",) and e.kwargs == {"code": 7}, e
    chunks = Collector()
    r = yield caller.call("com.cl.count", 4, options=CallOptions(on_progress=chunks))
    assert r == "done" and chunks.items == [0, 1, 2, 3], (r, chunks.items)
    assert (yield caller.call("com.cl.who")) is None  # not disclosed (JS test: disclosed)
    yield expect_error(caller.call("com.cl.nothing"), "wamp.error.no_such_procedure")
    yield leave(caller, cb, cc)


@defer.inlineCallbacks
def cancel_and_timeout(A, B, C):
    caller, cb = yield sessions((A, SER), (B, SER))
    started, interrupted = defer.Deferred(), defer.Deferred()

    def slow():
        started.called or started.callback(True)
        return defer.Deferred(lambda _: interrupted.called or interrupted.callback(True))

    def hang():
        return defer.Deferred()

    yield cb.register(slow, "com.cl.slow")
    yield cb.register(hang, "com.cl.hang")
    call = caller.call("com.cl.slow")
    yield wait_for(started, 5, "the remote invocation")
    call.cancel()
    try:
        yield call
        raise AssertionError("a canceled call returned")
    except (defer.CancelledError, ApplicationError):
        pass
    yield wait_for(interrupted, 5, "INTERRUPT at the remote callee")
    yield expect_error(caller.call("com.cl.hang", options=CallOptions(timeout=300)),
                       "wamp.error.timeout")
    yield leave(caller, cb)


@defer.inlineCallbacks
def shared_registrations(A, B, C):
    ca, cb, caller = yield sessions((A, SER), (B, SER), (C, OTHER))
    opts = RegisterOptions(invoke="roundrobin")
    yield ca.register(lambda: "a", "com.cl.rr", options=opts)
    yield cb.register(lambda: "b", "com.cl.rr", options=opts)
    got = []
    for _ in range(8):
        got.append((yield caller.call("com.cl.rr")))
    # node C may see the second callee a moment after its REGISTERED (docs/scale-out.md):
    # from then on the calls alternate
    assert got.count("a") >= 3 and got.count("b") >= 3, got
    # single: one callee in the whole cluster
    yield ca.register(lambda: 1, "com.cl.single")
    yield expect_error(cb.register(lambda: 2, "com.cl.single"),
                       "wamp.error.procedure_already_exists")
    # other policies must match cluster-wide too
    yield expect_error(cb.register(lambda: 3, "com.cl.rr", options=RegisterOptions(
        invoke="random")), "wamp.error.procedure_already_exists")
    yield leave(ca, cb, caller)


@defer.inlineCallbacks
def meta_for_the_cluster(A, B, C):
    a, b, c = yield sessions((A, SER), (B, SER), (C, OTHER))
    n = yield a.call("wamp.session.count")
    assert n == 3, n
    ids = yield a.call("wamp.session.list")
    assert sorted(ids) == sorted([a.details.session, b.details.session, c.details.session]), ids
    info = yield a.call("wamp.session.get", c.details.session)
    assert info["session"] == c.details.session, info
    yield b.register(lambda: None, "com.cl.meta.proc")
    reg = yield c.call("wamp.registration.lookup", "com.cl.meta.proc")
    assert reg, reg
    assert (yield a.call("wamp.registration.list_callees", reg)) == [b.details.session]
    yield b.subscribe(lambda: None, "com.cl.meta.topic")
    yield c.subscribe(lambda: None, "com.cl.meta.topic")
    sub = yield a.call("wamp.subscription.lookup", "com.cl.meta.topic")
    assert sub, sub
    assert (yield a.call("wamp.subscription.count_subscribers", sub)) == 2
    subs = yield a.call("wamp.subscription.list_subscribers", sub)
    assert sorted(subs) == sorted([b.details.session, c.details.session]), subs
    yield leave(a, b, c)


@defer.inlineCallbacks
def node_killed(cluster):
    """Node C dies (SIGKILL): the call pending on its callee is canceled, its procedures
    disappear cluster-wide and its session's testament is published, within the TTL."""
    A, B, C = [n.url for n in cluster.nodes]
    caller, heir = yield sessions((A, SER), (B, SER))
    callee, testator = yield sessions((C, SER), (C, OTHER))
    started, will = defer.Deferred(), Collector()

    def doomed():
        started.called or started.callback(True)
        return defer.Deferred()

    yield callee.register(doomed, "com.cl.doomed")
    yield heir.subscribe(will, "com.cl.will")
    yield testator.call("wamp.session.add_testament", "com.cl.will", ["gone"], {})
    pending = caller.call("com.cl.doomed")
    yield wait_for(started, 5, "the invocation on node C")
    cluster.kill_node(2)
    deadline = TTL_MS / 1000.0 + 6
    yield wait_for(expect_error(pending, "wamp.error.canceled"), deadline,
                   "ERROR canceled for the call pending on the dead node")
    yield will.wait(1, "the dead node's testament", timeout=deadline)
    assert will.items == ["gone"], will.items
    yield expect_error(caller.call("com.cl.doomed"), "wamp.error.no_such_procedure")
    assert (yield caller.call("wamp.session.count")) == 2
    yield leave(caller, heir)


@defer.inlineCallbacks
def node_restarted_with_its_id(cluster):
    """A node with a configured node_id is SIGKILLed and started again at once, long before
    its heartbeat (TTL 30 s here) expires: the new process cleans the old one's state up
    when it joins (its callee vanishes, its session's testament is published)."""
    from wampd_proc import WampdProcess

    cfg = cluster.config(7)
    cfg["backplane"]["heartbeat_ttl"] = 30000
    A = cluster.nodes[0].url
    ghost = WampdProcess(config=cfg).start()
    try:
        cluster.wait_joined(ghost)
        heir, = yield sessions((A, SER))
        will = Collector()
        yield heir.subscribe(will, "com.cl.will2")
        callee, = yield sessions((ghost.url, OTHER))
        yield callee.register(lambda: "ghost", "com.cl.ghost")
        yield callee.call("wamp.session.add_testament", "com.cl.will2", ["old"], {})
        assert (yield heir.call("com.cl.ghost")) == "ghost"
        ghost.kill()
        ghost = WampdProcess(config=cfg).start()
        cluster.wait_joined(ghost)
        yield will.wait(1, "the testament of the previous process", timeout=5)
        assert will.items == ["old"], will.items
        yield expect_error(heir.call("com.cl.ghost"), "wamp.error.no_such_procedure")
        yield leave(heir)
    finally:
        ghost.stop()


@defer.inlineCallbacks
def redis_restarted(cluster):
    """Redis dies: local traffic goes on; after it is back (empty) the nodes reconnect and
    announce again what they have: remote calls and events work as before."""
    A, B = cluster.nodes[0], cluster.nodes[1]
    a, b = yield sessions((A.url, SER), (B.url, OTHER))
    before_b = Collector()
    yield b.register(lambda: "survivor", "com.cl.survivor")
    yield b.subscribe(before_b, "com.cl.after")
    assert (yield a.call("com.cl.survivor")) == "survivor"
    joins = [n.stderr().count("joined the cluster") for n in (A, B)]
    cluster.redis.kill()
    A.wait_log("lost the cluster", timeout=10)
    B.wait_log("lost the cluster", timeout=10)
    # local traffic goes on; a subscription made meanwhile is announced later
    yield a.register(lambda: "local", "com.cl.local")
    assert (yield a.call("com.cl.local")) == "local"
    during_a = Collector()
    yield a.subscribe(during_a, "com.cl.outage")
    cluster.redis.start()
    cluster.wait_joined(A, after=joins[0])
    cluster.wait_joined(B, after=joins[1])
    yield wait_for(retry_call(a, "com.cl.survivor"), 10, "the re-announced remote callee")
    assert (yield b.call("com.cl.local")) == "local"
    yield a.publish("com.cl.after", "again", options=PublishOptions(acknowledge=True))
    yield before_b.wait(1, "an event across nodes after the restart")
    yield b.publish("com.cl.outage", "seen", options=PublishOptions(acknowledge=True))
    yield during_a.wait(1, "an event for a subscription made during the outage")
    assert before_b.items == ["again"] and during_a.items == ["seen"]
    yield leave(a, b)


@defer.inlineCallbacks
def redis_stalled(cluster):
    """Redis stops answering with its connections open (SIGSTOP, as a network stall): the
    nodes notice by their overdue heartbeat, serve local traffic, and recover once it
    answers again."""
    A, B = cluster.nodes[0], cluster.nodes[1]
    a, b = yield sessions((A.url, SER), (B.url, OTHER))
    yield b.register(lambda: "still", "com.cl.stall")
    assert (yield a.call("com.cl.stall")) == "still"
    lost = [n.stderr().count("lost the cluster") for n in (A, B)]
    joins = [n.stderr().count("joined the cluster") for n in (A, B)]
    cluster.redis.pause()
    try:
        for node, before in zip((A, B), lost):
            yield wait_until(lambda: node.stderr().count("lost the cluster") > before, 10,
                             "the node to notice the stall")
        assert (yield b.call("com.cl.stall")) == "still"  # local traffic goes on
    finally:
        cluster.redis.resume()
    cluster.wait_joined(A, after=joins[0])
    cluster.wait_joined(B, after=joins[1])
    assert (yield wait_for(retry_call(a, "com.cl.stall"), 10, "the remote callee")) == "still"
    yield leave(a, b)


class RawSession:
    """A raw WebSocket WAMP session that asks for resumption (blocking: run it in a thread)
    and counts what it receives after WELCOME, ACKs aside."""

    def __init__(self, url, resume=None):
        host, port = url.split("//")[1].split("/")[0].split(":")
        self.ws = WS(host, int(port), path="/" + url.split("/", 3)[3],
                     protocols=("wamp.2.%s" % SER,))
        self.received = 0
        details = {"roles": {"subscriber": {}}, "resumable": True}
        if resume:
            details["resume"] = resume
        self.ws.send([1, "realm1", details])
        self.welcome = self.ws.recv()
        assert self.welcome[0] == 2, self.welcome

    def recv(self):
        while True:
            msg = self.ws.recv(5)
            if msg[0] != 7:
                self.received += 1
                return msg

    def resume(self):
        return {"session": self.welcome[1], "token": self.welcome[2]["resume-token"],
                "received": self.received}


@defer.inlineCallbacks
def resume_on_another_node(A, B, C):
    """A session detached on node A gets what node B publishes meanwhile when it resumes on
    A; the same resume on B is an ordinary new session there and leaves A's alone."""
    def detach():
        s = RawSession(A)
        assert s.welcome[2].get("resumable") is True, s.welcome
        s.ws.send([32, 1, {}, "com.cl.rs"])
        assert s.recv()[0] == 33
        s.ws.close()  # the link drops: A keeps the session
        return s.resume()
    resume = yield threads.deferToThread(detach)
    pub = yield connect(B, "realm1", SER)
    for i in range(3):
        yield pub.publish("com.cl.rs", i, options=PublishOptions(acknowledge=True))

    def elsewhere():
        s = RawSession(B, resume)
        assert s.welcome[1] != resume["session"], s.welcome
        assert s.welcome[2].get("resumed") is False, s.welcome
        s.ws.send([6, {}, "wamp.close.close_realm"])
        s.ws.close()

    def home():
        s = RawSession(A, resume)
        assert s.welcome[1] == resume["session"], s.welcome
        assert s.welcome[2].get("resumed") is True, s.welcome
        got = [s.recv() for _ in range(3)]
        assert [m[4] for m in got] == [[0], [1], [2]], got
        s.ws.send([6, {}, "wamp.close.close_realm"])
        s.ws.close()
    yield threads.deferToThread(elsewhere)
    yield threads.deferToThread(home)
    yield pub.leave_and_wait()


def wait_until(pred, timeout, what):
    """A Deferred firing once pred() is true (checked every 50 ms), failing after timeout."""
    from twisted.internet import reactor, task
    d = defer.Deferred()

    def check():
        if pred():
            loop.stop()
            d.called or d.callback(True)
    loop = task.LoopingCall(check)
    loop.start(0.05)
    d.addBoth(lambda r: (loop.running and loop.stop(), r)[1])
    return wait_for(d, timeout, what)


@defer.inlineCallbacks
def retry_call(session, procedure, attempts=50):
    """The registrations of another node arrive shortly after the reconnect: call until
    the procedure is known (bounded by attempts and the caller's deadline)."""
    from twisted.internet import reactor, task
    for i in range(attempts):
        try:
            r = yield session.call(procedure)
            return r
        except ApplicationError as e:
            if e.error != "wamp.error.no_such_procedure" or i == attempts - 1:
                raise
            yield task.deferLater(reactor, 0.1, lambda: None)


@defer.inlineCallbacks
def shared_port(cluster):
    """Two more nodes listen on one port (SO_REUSEPORT): the kernel spreads the
    connections over both, and the sessions see one router."""
    import re
    from wampd_proc import WampdProcess

    def config(i, port):
        cfg = cluster.config(i)
        cfg["listeners"].append({"host": "127.0.0.1", "port": port, "reuse_port": True})
        return cfg
    first = WampdProcess(config=config(10, 0)).start()
    extra = [first]
    try:
        def ws_urls(node):
            return [u for u in node.urls if u.startswith("ws://")]
        assert len(ws_urls(first)) == 2, first.urls
        port = int(re.search(r":(\d+)/", ws_urls(first)[1]).group(1))
        second = WampdProcess(config=config(11, port)).start()
        extra.append(second)
        assert ws_urls(second)[1] == ws_urls(first)[1], (first.urls, second.urls)
        for node in extra:
            cluster.wait_joined(node)
        url = ws_urls(first)[1]
        clients = yield defer.gatherResults([connect(url, "realm1", SER) for _ in range(16)])
        def joined():
            return [n.stderr().count("realm: join session") for n in extra]
        yield wait_until(lambda: sum(joined()) >= 16, 5, "the join log lines")
        assert sum(joined()) == 16 and all(joined()), joined()  # both nodes got some
        n = yield clients[0].call("wamp.session.count")
        assert n == 16, n
        yield leave(*clients)
    finally:
        for node in extra:
            node.stop()


@defer.inlineCallbacks
def main():
    with Cluster(3, ttl_ms=TTL_MS,
                 extra={"realms": [{"name": "realm1", "resume": {"window_s": 30}}]}) as cluster:
        urls = [n.url for n in cluster.nodes]
        for scenario in (pubsub_across_nodes, patterns_and_retained, rpc_across_nodes,
                         cancel_and_timeout, shared_registrations, meta_for_the_cluster,
                         resume_on_another_node):
            print("scenario:", scenario.__name__, SER, flush=True)
            yield wait_for(scenario(*urls), 30, scenario.__name__)
        print("scenario: shared_port", SER, flush=True)
        yield wait_for(shared_port(cluster), 30, "shared_port")
        for scenario in (node_killed, node_restarted_with_its_id, redis_restarted,
                         redis_stalled):
            print("scenario:", scenario.__name__, SER, flush=True)
            yield wait_for(scenario(cluster), 40, scenario.__name__)


if __name__ == "__main__":
    run(main, timeout=170)
