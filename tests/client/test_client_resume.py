"""Resumable sessions end to end: libwampc clients (resume_peer.c) through a proxy that
cuts their link at chosen points (tests/lib/cutproxy.py), the real wampd, and Autobahn
peers that know nothing of it on the same realm.

1. Events through cuts: a resumable subscriber behind the proxy, a publisher on its own
   link; the link is cut in the middle of an EVENT frame, before an EVENT, right after
   one, and with the subscriber's ACK in flight. Every event arrives once and in order.
   An Autobahn|Python subscriber (and Autobahn|JS, when node is there) on the same topic
   gets every event too and never an ACK (it would drop the session).
2. Calls through cuts: a resumable caller and a resumable callee, each behind a proxy;
   cuts between CALL and RESULT, with a CALL in flight, with a YIELD in flight, in the
   middle of an INVOCATION. Every call is answered once with its own result, every
   invocation reaches the callee once; Autobahn|Python calls the same callee meanwhile.
3. The window: a subscriber whose link stays down past the realm's window (1 s) is ended
   by the router (logged); when it comes back it gets a new session (resumed false) and
   its subscription is made again.
4. The byte bound: a detached subscriber's log goes over the realm's max_bytes: the router
   ends it at once; it comes back to a new session.
4b. A lost WELCOME: the link is cut, and the resume's WELCOME is lost with the next one;
   the client resumes with the token it still holds and keeps its session (one join,
   every event once and in order).
5. The run: a subscriber behind the proxy, cut every second, a publisher at a steady rate;
   events per second delivered and events lost (must be 0). RESUME_RUN_RATE (events a
   second, default 50000) and RESUME_RUN_SECONDS (default 5) set it; the rate must be one
   the path can carry (the proxy is Python), or the backlog reaches the realm's max_bytes
   and the session ends (as it must: that is the bound).

With the argument "lws", scenarios 1 and 2 run through libwampc-ws instead (resume_peer
on libwebsockets' loop): over WebSocket (ws://, the proxy parsing WebSocket frames), over
RawSocket in an lws loop (rs:// with --lws) and over RawSocket over TLS in an lws loop
(rss:// with --lws: the proxy ends the client's TLS, with the test's certificates, so that
it can pick the messages to cut at, and resets the TCP connection under it), the same
cuts and assertions.

    WAMPD_BIN=... WAMPC_RESUME_PEER=... [NODE=node NODE_PATH=...] python3 test_client_resume.py [lws]
"""

import os
import shutil
import ssl
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)

from twisted.internet import defer, reactor, task, threads  # noqa: E402

from clientlib import Inbox, Peer  # noqa: E402
from cutproxy import (ACK, CALL, EVENT, INVOCATION, RAWSOCKET, RESULT,  # noqa: E402
                      WEBSOCKET, WELCOME, YIELD, CutProxy)
from tlscerts import make_certs  # noqa: E402
from wampclient import connect, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

PEER = os.environ.get("WAMPC_RESUME_PEER")
NODE = os.environ.get("NODE")
RUN_RATE = int(os.environ.get("RESUME_RUN_RATE", "50000"))
RUN_EVENTS = RUN_RATE * int(os.environ.get("RESUME_RUN_SECONDS", "5"))
MODE = sys.argv[1] if len(sys.argv) > 1 else "posix"
TMP = tempfile.mkdtemp(prefix="wampc-resume-") if MODE == "lws" else None
CERTS = make_certs(TMP) if TMP else None

# How a resumable peer reaches the router through the proxy: the proxy's framing, the
# router's listening URL of that scheme, the peer's arguments.
LINKS = {"rs": (RAWSOCKET, "rs", []),             # the POSIX adapter
         "lws-rs": (RAWSOCKET, "rs", ["--lws"]),  # libwampc-ws: RawSocket in an lws loop
         "ws": (WEBSOCKET, "ws", []),             # libwampc-ws: WebSocket
         # libwampc-ws: RawSocket over TLS (libwampc's TLS on lws' raw connection)
         "lws-rss": (RAWSOCKET, "rs", ["--lws", "--ca-file",
                                       os.path.join(CERTS or "", "ca.pem")])}


def server_ctx():
    """The proxy's side of a client's TLS: the test CA's certificate for localhost and
    127.0.0.1 (tests/lib/tlscerts.py)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(CERTS, "server.pem"), os.path.join(CERTS, "server.key"))
    return ctx


def peer(url, role, *args):
    return Peer.spawn(PEER, "--url", url, "--role", role, *args)


def fired(rule, what, timeout=30):
    return wait_for(threads.deferToThread(rule.fired.wait, timeout), timeout + 1, what)


@defer.inlineCallbacks
def done_line(p, what, timeout=60):
    line = yield p.line_starting("done", timeout)
    fields = dict(kv.split("=") for kv in line.split()[1:])
    return {k: int(v) for k, v in fields.items()}


class Counter:
    """An Autobahn|Python subscriber's view of numbered events."""

    def __init__(self, n):
        self.n, self.next, self.dups, self.gaps = n, 1, 0, 0
        self.done = defer.Deferred()

    def __call__(self, seq, *rest):
        if seq < self.next:
            self.dups += 1
            return
        self.gaps += seq - self.next
        self.next = seq + 1
        if seq >= self.n and not self.done.called:
            self.done.callback(None)


def proxied(router, link):
    """A proxy in front of the router for link (LINKS): (proxy, URL through it, args)."""
    framing, scheme, args = LINKS[link]
    url = router.url_of(scheme)
    port = int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    proxy = CutProxy(port, framing=framing, tls=server_ctx() if link == "lws-rss" else None)
    url = proxy.url_like(url)
    return proxy, "rss" + url[2:] if proxy.tls else url, args


@defer.inlineCallbacks
def events_through_cuts(py, router, link):
    n = 3000
    rs, ws = router.url_of("rs"), router.url
    proxy, url, args = proxied(router, link)
    topic = "com.r.burst." + link
    ab = Counter(n)
    yield py.subscribe(ab, topic)
    js = None
    if NODE and link == "rs":
        js = Peer.spawn(NODE, os.path.join(HERE, "resume_js_peer.js"), ws, topic, str(n))
        yield js.line_starting("ready")
    # (set before the subscriber starts: its first ACK may come before the first event)
    rules = [proxy.cut_at("down", EVENT, nth=200, mid=True),     # in the middle of a frame
             proxy.cut_at("down", EVENT, nth=900, before=True),  # before an event
             proxy.cut_at("down", EVENT, nth=1700, before=False)]  # right after one
    # its first ACK the proxy reads is lost with its link (an ACK written on a link that
    # is then reset before the proxy read it is lost too: nothing to see in the proxy)
    ack = proxy.cut_at("up", ACK, nth=1)
    sub = peer(url, "sub", "--resumable", "--topic", topic, "--count", str(n), *args)
    yield sub.line_starting("ready")
    # Two bursts: the ACK cut happens in the first (the subscriber acknowledges at least
    # after its 32nd unacknowledged event or a second after the last one), so that the
    # second one runs through the resume it causes. In one burst of 3,000 the first ACK the
    # proxy reads can be the subscriber's last, after its last event, and then nothing
    # would show that the ACKs go on after a lost one.
    first = 1000
    pub = peer(rs, "pub", "--topic", topic, "--count", str(first))
    yield done_line(pub, "the first burst's publisher")
    yield pub.exit_ok()
    yield fired(ack, "the cut of the subscriber's first ACK the proxy sees", 10)
    pub = peer(rs, "pub", "--topic", topic, "--from", str(first + 1), "--count", str(n))
    got = yield done_line(sub, "the subscriber's last event")
    assert got["dups"] == 0 and got["gaps"] == 0, got
    assert got["events"] == n, got
    for r in rules:
        assert r.fired.is_set(), ("a cut rule did not fire", r.direction, r.wtype, r.nth,
                                  r.seen, proxy.frames, got)
    # the ACKs go on after the one cut: 2,000 events after it, the subscriber's last link
    # carries some (the proxy's threads may lag behind the subscriber: wait for them)
    acks = yield threads.deferToThread(proxy.wait_count, "up", ACK, 2, 10)
    assert acks >= 2, (proxy.frames, got)
    print("frames through the proxy (%s):" % link, proxy.frames, flush=True)
    assert got["resumes"] >= 1, got  # two rules may hit one link (one in each direction)
    assert got["joins"] == 1, got    # every cut resumed: never a new session
    yield wait_for(ab.done, 30, "Autobahn|Python's last event")
    assert ab.dups == 0 and ab.gaps == 0, (ab.dups, ab.gaps)
    if js:
        got = yield done_line(js, "Autobahn|JS's last event")
        assert got == {"events": n, "dups": 0, "gaps": 0}, got
        yield js.exit_ok()
    yield done_line(pub, "the publisher")
    yield pub.exit_ok()
    yield sub.exit_ok()
    proxy.close()


@defer.inlineCallbacks
def calls_through_cuts(py, router, link):
    n = 400
    (pcallee, callee_url, args), (pcaller, caller_url, _) = (proxied(router, link),
                                                             proxied(router, link))
    callee = peer(callee_url, "callee", "--resumable", *args)
    yield callee.line_starting("ready")
    rules = [pcaller.cut_at("down", RESULT, nth=50),             # between CALL and RESULT
             pcaller.cut_at("up", CALL, nth=120),                # a CALL in flight
             pcaller.cut_at("down", RESULT, nth=250, mid=True),
             pcallee.cut_at("up", YIELD, nth=80),                # a YIELD in flight
             pcallee.cut_at("down", INVOCATION, nth=180, mid=True)]
    caller = peer(caller_url, "caller", "--resumable", "--count", str(n), "--window", "4",
                  *args)
    # Autobahn|Python calls the same callee meanwhile, each call answered once
    ab = 0
    for i in range(60):
        r = yield py.call("com.r.echo", i)
        assert r == i, (r, i)
        ab += 1
    got = yield done_line(caller, "the caller's last answer", 120)
    assert got == {"calls": n, "answered": n, "dups": 0, "wrong": 0, "errors": 0,
                   "joins": 1}, got
    for r in rules:
        assert r.fired.is_set(), ("a cut rule did not fire", r.direction, r.wtype, r.nth,
                                  r.seen)
    callee.transport.signalProcess("TERM")
    got = yield done_line(callee, "the callee")
    assert got["invocations"] == n + ab, (got, n + ab)   # none twice
    assert got["joins"] == 1, got
    yield caller.exit_ok()
    yield callee.exit_ok()
    pcallee.close()
    pcaller.close()


@defer.inlineCallbacks
def comes_back_new(router, proxy, sub):
    old = int((yield sub.line_starting("joined")).split()[1])
    yield sub.line_starting("ready")
    proxy.refuse = True
    proxy.cut()
    assert (yield sub.line_starting("suspended")) == "suspended %d" % old
    return old


@defer.inlineCallbacks
def window_passes(router, rs):
    proxy = CutProxy(int(rs.rsplit(":", 1)[1]))
    sub = peer(proxy.url, "sub", "--resumable", "--realm", "short", "--topic", "com.r.w",
               "--retry-ms", "200")
    old = yield comes_back_new(router, proxy, sub)
    # the router ends it when its window passes, not before
    yield threads.deferToThread(router.wait_log, r"detached session=%d ended" % old, 10)
    proxy.refuse = False
    line = yield sub.line_starting("joined", 20)
    assert int(line.split()[1]) != old, line
    sub.kill()
    proxy.close()


@defer.inlineCallbacks
def bound_passes(router, rs):
    proxy = CutProxy(int(rs.rsplit(":", 1)[1]))
    sub = peer(proxy.url, "sub", "--resumable", "--realm", "small", "--topic", "com.r.b")
    old = yield comes_back_new(router, proxy, sub)
    yield threads.deferToThread(router.wait_log, r"detached session=%d " % old, 10)
    pub = peer(rs, "pub", "--realm", "small", "--topic", "com.r.b", "--count", "100",
               "--size", "200")
    yield done_line(pub, "the publisher")
    yield threads.deferToThread(router.wait_log, r"resume log over 4096 bytes.*session=%d"
                                % old, 10)
    yield threads.deferToThread(router.wait_log, r"detached session=%d ended" % old, 10)
    proxy.refuse = False
    line = yield sub.line_starting("joined", 20)
    assert int(line.split()[1]) != old, line
    sub.kill()
    yield pub.exit_ok()
    proxy.close()


@defer.inlineCallbacks
def welcome_lost(router, rs):
    """The resume's WELCOME lost with its link: the client still holds the token it
    resumed with, resumes with it again and keeps its session (one join, every event
    once and in order)."""
    n = 1000
    proxy = CutProxy(int(rs.rsplit(":", 1)[1]))
    cut = proxy.cut_at("down", EVENT, nth=100, before=True)
    lost = proxy.cut_at("down", WELCOME, nth=2, before=True)  # the first resume's WELCOME
    sub = peer(proxy.url, "sub", "--resumable", "--topic", "com.r.lost", "--count", str(n))
    yield sub.line_starting("ready")
    pub = peer(rs, "pub", "--topic", "com.r.lost", "--count", str(n))
    got = yield done_line(sub, "the subscriber's last event")
    assert cut.fired.is_set() and lost.fired.is_set(), (proxy.frames, got)
    assert got["events"] == n and got["dups"] == 0 and got["gaps"] == 0, got
    assert got["joins"] == 1 and got["resumes"] >= 1, got
    assert proxy.count("down", WELCOME) >= 3, proxy.frames  # the lost one counted too
    yield threads.deferToThread(router.wait_log, r"with the token before the last", 10)
    yield done_line(pub, "the publisher")
    yield pub.exit_ok()
    yield sub.exit_ok()
    proxy.close()


@defer.inlineCallbacks
def the_run(rs):
    proxy = CutProxy(int(rs.rsplit(":", 1)[1]))
    sub = peer(proxy.url, "sub", "--resumable", "--realm", "big", "--topic", "com.r.run",
               "--count", str(RUN_EVENTS), "--retry-ms", "20")
    yield sub.line_starting("ready")
    cutter = task.LoopingCall(proxy.cut)
    start = time.monotonic()
    pub = peer(rs, "pub", "--realm", "big", "--topic", "com.r.run", "--count", str(RUN_EVENTS),
               "--rate", str(RUN_RATE))
    cutter.start(1.0, now=False)
    got = yield done_line(sub, "the run's last event", 240)
    elapsed = time.monotonic() - start
    cutter.stop()
    print("resumption run: %d events in %.2f s through %d cuts (one a second): %.0f events/s, "
          "lost %d, duplicated %d, resumed %d times"
          % (got["events"], elapsed, proxy.cuts, got["events"] / elapsed, got["gaps"],
             got["dups"], got["resumes"]), flush=True)
    assert got["gaps"] == 0 and got["dups"] == 0, got
    assert elapsed < 2 or got["resumes"] >= 1, got
    yield done_line(pub, "the publisher")
    yield pub.exit_ok()
    yield sub.exit_ok()
    proxy.close()


@defer.inlineCallbacks
def main():
    router = WampdProcess(config={
        "listeners": [{"type": "universal", "port": 0}],
        "realms": [{"name": "realm1", "resume": {"window_s": 30, "max_bytes": 1048576}},
                   {"name": "short", "resume": {"window_s": 1}},
                   {"name": "small", "resume": {"window_s": 60, "max_bytes": 4096}},
                   {"name": "big", "resume": {"window_s": 30, "max_bytes": 67108864}}],
        "limits": {"max_auth_failures_per_ip": 0}}).start()
    try:
        rs, ws = router.url_of("rs"), router.url
        py = yield connect(ws, "realm1", "json")
        if MODE == "lws":
            for link in ("ws", "lws-rs", "lws-rss"):
                print("scenario: events and calls through cuts over", link, flush=True)
                yield events_through_cuts(py, router, link)
                yield calls_through_cuts(py, router, link)
            yield py.leave_and_wait()
            return
        yield events_through_cuts(py, router, "rs")
        yield calls_through_cuts(py, router, "rs")
        yield window_passes(router, rs)
        yield bound_passes(router, rs)
        yield welcome_lost(router, rs)
        yield the_run(rs)
        yield py.leave_and_wait()
    finally:
        router.stop()
        if TMP:
            shutil.rmtree(TMP, ignore_errors=True)


if not PEER:
    sys.exit("WAMPC_RESUME_PEER is not set (ctest sets it to the built resume_peer)")
run(main, timeout=280)
