"""wamp-call, wamp-publish and wamp-subscribe (issue #11) against the real wampd, next to
Autobahn|Python (Twisted) peers, in one serializer:

  calls       results in every shape (null, one value, a list, args + kwargs, --full,
              negative numbers, binary both ways), progressive results, over ws://, rs://,
              unix:, wss:// and rss:// (--cafile; refused without it; -k)
  errors      a callee's ERROR (URI, args, kwargs on stderr, exit 1), no_such_procedure,
              not_authorized, no_such_realm (3), connection refused (3), a silent server and
              a callee that never answers (timeout, 4), command-line mistakes (2, in the
              json run only)
  pubsub      wamp-subscribe gets wamp-publish's and Autobahn's events (exact and prefix,
              --details, --count), Autobahn gets wamp-publish's, --acknowledge, --retain
              and --retained, a refused publication, SIGINT and --wait endings, an
              interrupted call (130)
  ticket      --authid/--ticket and $WAMP_TICKET (role user), a wrong ticket (3)

Every tool run has a deadline and must leave no sanitizer report (the ASan build runs this
too).

    WAMPD_BIN=... WAMPD_TOOLS_DIR=... /usr/bin/python3 test_tools.py json|msgpack|cbor
"""

import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import CallResult, PublishOptions, RegisterOptions  # noqa: E402
from twisted.internet import defer, protocol, reactor  # noqa: E402

from tlscerts import make_certs  # noqa: E402
from wampclient import connect, run, wait_for  # noqa: E402
from wampd_proc import SANITIZER_MARKERS, WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"
TOOLS = os.environ["WAMPD_TOOLS_DIR"]
ALL = {"call": True, "register": True, "publish": True, "subscribe": True}


class Tool(protocol.ProcessProtocol):
    """One tool run: stdout, stderr, exit code; waits on stderr lines with deadlines."""

    def __init__(self, argv, env, timeout):
        self.argv = argv
        self.out = b""
        self.err = b""
        self.done = defer.Deferred()
        self._waits = []
        self._timer = reactor.callLater(timeout, self._too_slow, timeout)
        reactor.spawnProcess(self, argv[0], argv, env=env)

    def _too_slow(self, timeout):
        self.transport.signalProcess("KILL")
        self.err += ("\n[test: killed after %ss]" % timeout).encode()

    def outReceived(self, data):
        self.out += data

    def errReceived(self, data):
        self.err += data
        for rx, d in list(self._waits):
            if re.search(rx, self.err.decode(errors="replace")):
                self._waits.remove((rx, d))
                d.callback(None)

    def stderr_line(self, rx, timeout=10):
        """Fires when stderr matches rx (fails after timeout s)."""
        d = defer.Deferred()
        if re.search(rx, self.err.decode(errors="replace")):
            d.callback(None)
        else:
            self._waits.append((rx, d))
        return wait_for(d, timeout, "%r on the stderr of %s" % (rx, " ".join(self.argv)))

    def processEnded(self, reason):
        if self._timer.active():
            self._timer.cancel()
        err = self.err.decode(errors="replace")
        for marker in SANITIZER_MARKERS:
            if marker in err:
                self.done.errback(AssertionError("sanitizer report from %s:\n%s"
                                                 % (" ".join(self.argv), err)))
                return
        code = reason.value.exitCode
        if code is None:
            code = -reason.value.signal
        self.done.callback((self.out.decode(), err, code))


def start(name, *args, url=None, ser=SER, env=None, timeout=30):
    argv = [os.path.join(TOOLS, name)]
    if url:
        argv += ["--url", url]
    argv += ["--serializer", ser] + [str(a) for a in args]
    e = dict(os.environ)
    e.pop("WAMP_TICKET", None)
    e.update(env or {})
    return Tool(argv, e, timeout)


@defer.inlineCallbacks
def tool(name, *args, expect=0, **kw):
    """Run a tool to its end; assert its exit code; return (stdout, stderr)."""
    t = start(name, *args, **kw)
    out, err, code = yield t.done
    assert code == expect, "%s exited %s (expected %s)\nstdout: %s\nstderr: %s" % (
        " ".join(t.argv), code, expect, out, err)
    return out, err


def lines(out):
    return [json.loads(line) for line in out.splitlines()]


# ------------------------------------------------------------------------------ callees

class Callee:
    def __init__(self):
        self.bytes_seen = []
        self.never = []

    def add2(self, a, b):
        return a + b

    def echo(self, *args, **kwargs):
        return CallResult(*args, **kwargs)

    def binary(self, x):
        self.bytes_seen.append(x)
        assert isinstance(x, bytes), x
        return x + b"\xff"

    def fail(self, *args):
        raise ApplicationError("com.example.error.bad_input", "why", 7, field="x")

    def progress(self, n, details=None):
        for i in range(1, n):
            if details.progress:
                details.progress(i)
        return n

    def slow(self):
        d = defer.Deferred()
        self.never.append(d)
        return d


@defer.inlineCallbacks
def register(session, callee):
    for name in ("add2", "echo", "binary", "fail", "slow"):
        yield session.register(getattr(callee, name), "com.example." + name)
    yield session.register(callee.progress, "com.example.progress",
                           options=RegisterOptions(details_arg="details"))


# ------------------------------------------------------------------------------ scenarios

@defer.inlineCallbacks
def calls(r, callee, wss, rss, cafile, sock):
    url = r.url
    for args, expect in ((["com.example.add2", 20, 22], "42"),
                         (["com.example.add2", -5, 3], "-2"),
                         (["com.example.echo"], "null"),
                         (["com.example.echo", 1, 2], "[1,2]"),
                         (["com.example.echo", '"one"'], '"one"'),
                         (["com.example.echo", 1, '"two"', '{"three":3}', "--kw", "k=[true,null]",
                           "--kw=n=1.5"],
                          '{"args":[1,"two",{"three":3}],"kwargs":{"k":[true,null],"n":1.5}}'),
                         (["--full", "com.example.add2", 1, 2], '{"args":[3],"kwargs":{}}'),
                         (["com.example.binary", '"\\u0000AQID"'], '"\\u0000AQID/w=="'),
                         (["--progress", "com.example.progress", 3], "1\n2\n3")):
        out, _ = yield tool("wamp-call", *args, url=url)
        assert out == expect + "\n", (args, out, expect)
    assert callee.bytes_seen == [b"\x01\x02\x03"], callee.bytes_seen

    # the same call over every transport
    port = r.port
    for where in ("rs://127.0.0.1:%d" % port, "unix:" + sock, "unix://" + sock):
        out, _ = yield tool("wamp-call", "com.example.add2", 1, 2, url=where)
        assert out == "3\n", (where, out)
    out, _ = yield tool("wamp-call", "--cafile", cafile, "com.example.add2", 2, 2, url=wss)
    assert out == "4\n", out
    _, err = yield tool("wamp-call", "--cafile", os.devnull, "com.example.add2", 2, 2, url=wss,
                        expect=3)
    assert "cannot connect" in err, err
    out, _ = yield tool("wamp-call", "-k", "com.example.add2", 2, 3, url=wss)
    assert out == "5\n", out
    # RawSocket over TLS, the same checks
    out, _ = yield tool("wamp-call", "--cafile", cafile, "com.example.add2", 3, 3, url=rss)
    assert out == "6\n", out
    _, err = yield tool("wamp-call", "com.example.add2", 3, 3, url=rss, expect=3)
    assert "cannot connect" in err and "certificate verify failed" in err, err
    out, _ = yield tool("wamp-call", "-k", "com.example.add2", 3, 4, url=rss)
    assert out == "7\n", out


@defer.inlineCallbacks
def errors(r, callee, refused_port, silent_port):
    url = r.url
    out, err = yield tool("wamp-call", "com.example.fail", 1, url=url, expect=1)
    assert out == "" and 'wamp-call: com.example.error.bad_input ["why",7] {"field":"x"}' in err, \
        err
    _, err = yield tool("wamp-call", "com.example.nothing", url=url, expect=1)
    assert "wamp.error.no_such_procedure" in err, err
    _, err = yield tool("wamp-call", "com.private.thing", url=url, expect=1)
    assert "wamp.error.not_authorized" in err, err
    _, err = yield tool("wamp-call", "-r", "no.such.realm", "com.example.add2", 1, 2, url=url,
                        expect=3)
    assert "wamp.error.no_such_realm" in err, err
    _, err = yield tool("wamp-call", "wamp.session.count",
                        url="ws://127.0.0.1:%d/ws" % refused_port, expect=3)
    assert "cannot connect" in err, err

    t0 = time.monotonic()
    _, err = yield tool("wamp-call", "-T", "1", "wamp.session.count",
                        url="ws://127.0.0.1:%d/ws" % silent_port, expect=4)
    assert "timeout" in err and time.monotonic() - t0 < 8, err
    t0 = time.monotonic()
    _, err = yield tool("wamp-call", "--timeout=1", "com.example.slow", url=url, expect=4)
    assert "timeout: no RESULT within 1 s" in err and time.monotonic() - t0 < 8, err
    assert len(callee.never) == 1

    if SER != "json":
        return      # the command line does not depend on the serializer: checked once
    # command-line mistakes: exit 2 before any connection
    for args, text in ((["wamp-call"], "usage: wamp-call"),
                       (["wamp-call", "p", "hello"], "a string needs its JSON quotes"),
                       (["wamp-call", "p", "{bad"], "argument 1 is not JSON"),
                       (["wamp-call", "--kw", "novalue", "p"], "--kw wants KEY=JSON"),
                       (["wamp-call", "--bogus", "p"], "unknown option --bogus"),
                       (["wamp-call", "-s", "xml", "p"], "--serializer"),
                       (["wamp-call", "-u", "http://x/", "p"], "--url"),
                       (["wamp-call", "-u", "rs://host", "p"], "--url"),
                       (["wamp-call", "-u", "ws://[::1/ws", "p"], "--url"),
                       (["wamp-call", "-u", "ws://h:99999/ws", "p"], "--url"),
                       (["wamp-call", "-u", "unix:", "p"], "--url"),
                       (["wamp-call", "-T", "0", "p"], "--timeout"),
                       (["wamp-subscribe", "-m", "fuzzy", "t"], "--match"),
                       (["wamp-subscribe", "-n", "0", "t"], "--count"),
                       (["wamp-subscribe", "a", "b"], "one TOPIC"),
                       (["wamp-publish"], "usage: wamp-publish")):
        _, err = yield tool(args[0], *args[1:], expect=2)
        assert text in err, (args, err)
    for name in ("wamp-call", "wamp-publish", "wamp-subscribe"):
        out, _ = yield tool(name, "--help")
        assert out.startswith("usage: %s [options]" % name) and "--url" in out, out
        out, _ = yield tool(name, "-V")
        assert out.startswith(name + " (wampd) "), out


@defer.inlineCallbacks
def pubsub(r, session, sock):
    url = r.url
    got = []
    arrived = defer.Deferred()

    def on_event(*args, **kwargs):
        got.append((args, kwargs))
        if len(got) == 2 and not arrived.called:
            arrived.callback(None)
    yield session.subscribe(on_event, "com.example.news")

    sub = start("wamp-subscribe", "-v", "-n", 2, "com.example.news", url=url)
    yield sub.stderr_line(r"subscribed to com\.example\.news \(subscription \d+\)")
    yield tool("wamp-publish", "com.example.news", '"hello"', "--kw", "n=1", "--acknowledge",
               url=url)
    yield tool("wamp-publish", "com.example.news", 2, url="unix:" + sock)
    out, err, code = yield sub.done
    assert code == 0, (code, err)
    assert lines(out) == [{"topic": "com.example.news", "args": ["hello"], "kwargs": {"n": 1}},
                          {"topic": "com.example.news", "args": [2]}], out
    yield wait_for(arrived, 10, "Autobahn's events")
    assert got == [(("hello",), {"n": 1}), ((2,), {})], got

    # an Autobahn publisher, a prefix subscription with --details
    sub = start("wamp-subscribe", "-v", "--match", "prefix", "--details", "-n", 1,
                "com.example.pfx.", url=url)
    yield sub.stderr_line(r"subscribed to com\.example\.pfx\. match prefix")
    yield session.publish("com.example.pfx.a.b", 1, b"\x00\x01", k="v",
                          options=PublishOptions(acknowledge=True))
    out, err, code = yield sub.done
    assert code == 0, (code, err)
    [line] = lines(out)
    assert line["topic"] == "com.example.pfx.a.b" and line["args"] == [1, "\x00AAE="] and \
        line["kwargs"] == {"k": "v"} and line["details"]["topic"] == "com.example.pfx.a.b", line

    # a retained event, fetched by a later subscriber
    yield tool("wamp-publish", "--retain", "--acknowledge", "com.example.kept", '"last"',
               url=url)
    out, _ = yield tool("wamp-subscribe", "--retained", "-n", 1, "com.example.kept", url=url)
    assert lines(out) == [{"topic": "com.example.kept", "args": ["last"]}], out

    # refused publications: ERROR with --acknowledge, silence without
    _, err = yield tool("wamp-publish", "com.private.x", 1, "--acknowledge", url=url, expect=1)
    assert "wamp.error.not_authorized" in err, err
    yield tool("wamp-publish", "com.private.x", 1, url=url)

    # endings: SIGINT (0), --wait without and with an unmet --count
    sub = start("wamp-subscribe", "-v", "com.example.quiet", url=url)
    yield sub.stderr_line(r"subscribed to com\.example\.quiet")
    sub.transport.signalProcess("INT")
    out, err, code = yield sub.done
    assert code == 0 and out == "", (code, out, err)
    yield tool("wamp-subscribe", "--wait", "0.3", "com.example.quiet", url=url)
    _, err = yield tool("wamp-subscribe", "-W", "0.3", "-n", 1, "com.example.quiet", url=url,
                        expect=4)
    assert "timeout: 0 of 1 events" in err, err
    # an interrupted call: 130
    call = start("wamp-call", "-v", "com.example.slow", url=url)
    yield call.stderr_line("joined realm1")
    call.transport.signalProcess("TERM")
    _, err, code = yield call.done
    assert code == 130, (code, err)


@defer.inlineCallbacks
def ticket(r):
    url = r.url
    _, err = yield tool("wamp-call", "-v", "-a", "joe", "-t", "t-joe", "wamp.session.count",
                        url=url)
    assert "authid joe, authrole user" in err, err
    _, err = yield tool("wamp-call", "-v", "-a", "joe", "wamp.session.count", url=url,
                        env={"WAMP_TICKET": "t-joe"})
    assert "authid joe, authrole user" in err, err
    # joe's role may use com.private.: no callee there, but no refusal either
    _, err = yield tool("wamp-call", "-a", "joe", "-t", "t-joe", "com.private.thing", url=url,
                        expect=1)
    assert "wamp.error.no_such_procedure" in err, err
    _, err = yield tool("wamp-call", "-a", "joe", "-t", "wrong", "wamp.session.count", url=url,
                        expect=3)
    assert "the router refused the session: wamp.error.authentication_failed" in err, err


def config(sock, certs):
    auth = {"ticket": {"type": "static", "principals": {"joe": {"ticket": "t-joe",
                                                                "role": "user"}}},
            "anonymous": {"type": "static", "role": "anon"}}
    return {
        "listeners": [
            {"type": "universal", "host": "127.0.0.1", "auth": auth},
            {"type": "rawsocket", "unix": sock, "auth": auth},
            {"type": "universal", "host": "127.0.0.1", "port": 0, "auth": auth,
             "tls": {"certificate": os.path.join(certs, "server.pem"),
                     "key": os.path.join(certs, "server.key")}},
        ],
        "realms": [{"name": "realm1", "roles": [
            {"name": "user", "permissions": [{"uri": "", "match": "prefix", "allow": ALL}]},
            {"name": "anon", "permissions": [
                {"uri": "", "match": "prefix", "allow": ALL},
                {"uri": "com.private.", "match": "prefix", "allow": {}}]}]}],
    }


@defer.inlineCallbacks
def main():
    d = tempfile.mkdtemp(prefix="wampd-tools-")
    refused = socket.socket()
    silent = socket.socket()
    try:
        make_certs(d)
        refused.bind(("127.0.0.1", 0))      # bound, not listening: connections are refused
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)                    # accepted by the kernel, never answered
        sock = os.path.join(d, "wampd.sock")
        with WampdProcess(config=config(sock, d)) as r:
            wss = [u for u in r.urls if u.startswith("wss://")]
            assert wss, r.urls
            wss = wss[0].replace("127.0.0.1", "localhost")
            rss = [u for u in r.urls if u.startswith("rss://")]
            assert rss, r.urls
            rss = rss[0].replace("127.0.0.1", "localhost")
            session = yield connect(r.url, "realm1", SER)
            callee = Callee()
            yield register(session, callee)
            print("scenario: calls", SER, flush=True)
            yield calls(r, callee, wss, rss, os.path.join(d, "ca.pem"), sock)
            print("scenario: errors", SER, flush=True)
            yield errors(r, callee, refused.getsockname()[1], silent.getsockname()[1])
            print("scenario: pubsub", SER, flush=True)
            yield pubsub(r, session, sock)
            print("scenario: ticket", SER, flush=True)
            yield ticket(r)
            for never in callee.never:
                never.callback(None)
            yield session.leave_and_wait()
    finally:
        refused.close()
        silent.close()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run(main, timeout=200)
