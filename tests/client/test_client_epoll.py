"""client/examples/epoll_service.c against the real wampd, an Autobahn|Python session
watching it: libwampc embedded in an application's own epoll loop, next to the
application's timerfd (the heartbeat) and signalfd (SIGTERM, SIGINT).

1. Over a Unix socket with CBOR: it joins, its heartbeat arrives (its session, label and
   interval in it); com.example.add2 answers (integers, a float, an overflow and a wrong
   argument refused with wamp.error.invalid_argument); its subscription to
   com.example.configure works (the new label and interval are in the next heartbeats).
   Then wampd is stopped and started again on the same socket path: the service reports the
   router's GOODBYE, reconnects by itself, and the new session beats again with the state it
   kept (label, interval, the heartbeat's sequence going on); add2 answers and configure is
   heard again (the library registered and subscribed again). SIGINT: it leaves (GOODBYE)
   and exits 0; the router sees the session leave.
2. Over TCP with JSON through a proxy that keeps a copy of both directions: add2 answers,
   then SIGTERM: it exits 0, and the bytes show its GOODBYE (wamp.close.close_realm) as its
   last message and the router's answer (wamp.close.goodbye_and_out) as the last one to it.
Under ASan the service must exit with no report (Peer.exit_ok).

    WAMPD_BIN=... WAMPC_EPOLL_SERVICE=... /usr/bin/python3 test_client_epoll.py
"""

import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)

from autobahn.wamp.types import PublishOptions  # noqa: E402
from twisted.internet import defer  # noqa: E402

from clientlib import Inbox, Peer, Tap, rawsocket_messages  # noqa: E402
from wampclient import connect, expect_error, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SERVICE = os.environ.get("WAMPC_EPOLL_SERVICE")
TMP = tempfile.mkdtemp(prefix="wampc-epoll-")
SOCK = os.path.join(TMP, "wampd.sock")
CONFIG = {"listeners": [{"type": "universal", "port": 0},
                        {"type": "rawsocket", "unix": SOCK}],
          "realms": [{"name": "realm1"}]}
ACK = PublishOptions(acknowledge=True)


def service(url, ser, prefix, heartbeat=50):
    return Peer.spawn(SERVICE, "--url", url, "--serializer", ser, "--prefix", prefix,
                      "--heartbeat", str(heartbeat))


@defer.inlineCallbacks
def watcher(router, prefix):
    """An Autobahn|Python session with the service's heartbeat and the router's session
    leave events in an inbox."""
    py = yield connect(router.url, "realm1", "msgpack")
    inbox = Inbox()
    yield py.subscribe(inbox.handler("heartbeat"), prefix + ".heartbeat")
    yield py.subscribe(inbox.handler("on_leave"), "wamp.session.on_leave")
    return py, inbox


@defer.inlineCallbacks
def heartbeat(inbox):
    args, kw = yield inbox.get("heartbeat")
    assert len(args) == 1 and isinstance(args[0], int) and args[0] >= 1, args
    assert set(kw) == {"session", "label", "interval", "joins"}, kw
    return args[0], kw


@defer.inlineCallbacks
def heartbeat_with(inbox, label, last_seq, session):
    """The heartbeats until one carries label: all of this session, their sequence rising
    by one. The beats made before the service heard of a new label still carry the old one;
    at most 200 of them (10 s at 50 ms) may come first."""
    for _ in range(200):
        seq, kw = yield heartbeat(inbox)
        assert kw["session"] == session, (kw, session)
        assert last_seq is None or seq == last_seq + 1, (seq, last_seq)
        last_seq = seq
        if kw["label"] == label:
            return seq, kw
    raise AssertionError("no heartbeat with label %r" % label)


@defer.inlineCallbacks
def add2(py, prefix):
    proc = prefix + ".add2"
    assert (yield py.call(proc, 2, 3)) == 5
    assert (yield py.call(proc, -7, 2)) == -5
    r = yield py.call(proc, 1.5, 2)
    assert r == 3.5 and isinstance(r, float), r
    yield expect_error(py.call(proc, 2 ** 62, 2 ** 62), "wamp.error.invalid_argument")
    yield expect_error(py.call(proc, "x", 1), "wamp.error.invalid_argument")
    yield expect_error(py.call(proc, 1), "wamp.error.invalid_argument")


@defer.inlineCallbacks
def unix_restart():
    prefix = "com.example"
    router = WampdProcess(config=CONFIG).start()
    svc = None
    try:
        py, inbox = yield watcher(router, prefix)
        svc = service("unix:" + SOCK, "cbor", prefix)
        s1 = int((yield svc.line_starting("joined")).split()[1])
        # the first beat: published after the WELCOME, so add2 and the subscription, sent
        # before it on the same session, are in place at the router
        seq, kw = yield heartbeat(inbox)
        assert kw == {"session": s1, "label": "-", "interval": 50, "joins": 1}, kw
        yield add2(py, prefix)
        yield py.publish(prefix + ".configure", label="blue", interval=30, options=ACK)
        assert (yield svc.line_starting("configured")) == "configured blue 30"
        seq, kw = yield heartbeat_with(inbox, "blue", seq, s1)
        assert kw["interval"] == 30, kw
        # wrong values are ignored: the label stays, the interval too
        yield py.publish(prefix + ".configure", label="x" * 64, interval=5, options=ACK)
        assert (yield svc.line_starting("configured")) == "configured blue 30"

        # wampd goes away and comes back on the same socket path
        yield py.leave_and_wait()
        router.stop()
        line = yield svc.line_starting("left")
        assert line == "left wamp.close.system_shutdown (reconnecting)", line
        router = WampdProcess(config=CONFIG).start()
        py, inbox = yield watcher(router, prefix)
        s2 = int((yield svc.line_starting("joined", timeout=20)).split()[1])
        assert s2 != s1
        seq2, kw = yield heartbeat(inbox)  # from s2 (the only session publishing it here)
        assert kw == {"session": s2, "label": "blue", "interval": 30, "joins": 2}, kw
        assert seq2 > seq, (seq2, seq)
        # restored by the library (sent before this heartbeat on the same session)
        assert (yield py.call(prefix + ".add2", 20, 22)) == 42
        yield py.publish(prefix + ".configure", label="green", options=ACK)
        assert (yield svc.line_starting("configured")) == "configured green 30"
        yield heartbeat_with(inbox, "green", None, s2)

        svc.transport.signalProcess("INT")
        assert (yield svc.line_starting("signal")) == "signal INT"
        assert (yield svc.line_starting("left")) == "left wamp.close.close_realm"
        assert (yield svc.next_line("exit")) == "exit"
        yield svc.exit_ok()
        svc = None
        while (yield inbox.get("on_leave"))[0][0] != s2:
            pass
        yield py.leave_and_wait()
    finally:
        if svc is not None:
            svc.kill()
        router.stop()


@defer.inlineCallbacks
def tcp_goodbye():
    prefix = "com.example.tcp"
    router = WampdProcess(config=CONFIG).start()
    svc = None
    try:
        py, inbox = yield watcher(router, prefix)
        tap = Tap(router.port)
        svc = service("rs://127.0.0.1:%d" % tap.port, "json", prefix)
        s = int((yield svc.line_starting("joined")).split()[1])
        _, kw = yield heartbeat(inbox)
        assert kw["session"] == s, kw
        yield add2(py, prefix)
        svc.transport.signalProcess("TERM")
        assert (yield svc.line_starting("signal")) == "signal TERM"
        assert (yield svc.line_starting("left")) == "left wamp.close.close_realm"
        yield svc.exit_ok()
        svc = None
        assert len(tap.conns) == 1, tap.conns
        to_router, to_client = yield wait_for(tap.conns[0], 10, "the tapped connection to end")
        sent = rawsocket_messages(to_router, json.loads)
        got = rawsocket_messages(to_client, json.loads)
        assert sent[0][0] == 1 and sent[0][1] == "realm1", sent[0]  # HELLO
        assert sent[-1][0] == 6 and sent[-1][2] == "wamp.close.close_realm", sent[-1]
        assert got[-1][0] == 6 and got[-1][2] == "wamp.close.goodbye_and_out", got[-1]
        yield py.leave_and_wait()
    finally:
        if svc is not None:
            svc.kill()
        router.stop()


@defer.inlineCallbacks
def main():
    try:
        yield unix_restart()
        yield tcp_goodbye()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if not SERVICE:
    sys.exit("WAMPC_EPOLL_SERVICE is not set (ctest sets it to the built wampc_epoll_service)")
run(main, timeout=150)
