"""Autobahn|Python sessions for tests, driven by Twisted with deadlines.

    from wampclient import connect, run, JoinFailed

    @defer.inlineCallbacks
    def main():
        s = yield connect(url, "realm1", serializer="msgpack", authmethods=["ticket"],
                          authid="joe", secret="s3cret")
        r = yield s.call("com.example.add2", 1, 2)
        ...
        yield s.leave_and_wait()

    run(main, timeout=30)     # exits non-zero with the failure on any error or timeout

Debian's Autobahn|Python asyncio runner is unreliable here, so Twisted is used directly:
one WampWebSocketClientFactory per session, the serializer chosen explicitly.
"""

import os
import subprocess
import sys
import textwrap
import traceback
import urllib.parse

from autobahn.twisted.wamp import ApplicationSession
from autobahn.twisted.websocket import WampWebSocketClientFactory
from autobahn.wamp import auth as wamp_auth
from autobahn.wamp import cryptosign as wamp_cryptosign
from autobahn.wamp import serializer as wamp_serializer
from autobahn.wamp.exception import ProtocolError
from autobahn.wamp.types import ComponentConfig
from twisted.internet import defer, reactor
from twisted.internet.endpoints import SSL4ClientEndpoint, TCP4ClientEndpoint, UNIXClientEndpoint
from autobahn.twisted.rawsocket import WampRawSocketClientFactory

SERIALIZERS = {
    "json": wamp_serializer.JsonSerializer,
    "msgpack": wamp_serializer.MsgPackSerializer,
    "cbor": wamp_serializer.CBORSerializer,
}


class JoinFailed(Exception):
    """The router refused the session (ABORT) or the connection failed."""

    def __init__(self, reason, message=""):
        Exception.__init__(self, "%s %s" % (reason, message))
        self.reason = reason


class TestSession(ApplicationSession):
    def __init__(self, config, opts, joined):
        ApplicationSession.__init__(self, config)
        self._opts = opts
        self._joined = joined
        self.left = defer.Deferred()
        self.disconnected = defer.Deferred()
        self.protocol_errors = []  # what Autobahn took for a protocol violation by the router
        self.details = None
        self._key = None
        self._scram = None
        self.scram_server_verified = None

    def onConnect(self):
        o = self._opts
        if o.get("roles") is not None:  # HELLO.Details.roles instead of Autobahn's defaults
            self._session_roles = o["roles"]
        extra = dict(o.get("authextra") or {})
        if "scram" in (o.get("authmethods") or []):
            # Autobahn's own WAMP-SCRAM client (needs argon2-cffi and passlib); it also
            # checks the router's server signature in WELCOME (onWelcome)
            self._scram = wamp_auth.AuthScram(authid=o.get("authid"), password=o["secret"])
            extra.update(self._scram.authextra)
        if o.get("cryptosign_seed") is not None:
            self._key = wamp_cryptosign.CryptosignKey.from_bytes(o["cryptosign_seed"])
            extra["pubkey"] = self._key.public_key()
            if o.get("channel_binding"):  # "tls-unique": sign challenge XOR channel id
                extra["channel_binding"] = o["channel_binding"]
        self.join(self.config.realm, o.get("authmethods"), o.get("authid"),
                  authextra=extra or None)

    def onChallenge(self, challenge):
        if self._opts.get("challenge_delay"):  # answer late (expired challenges)
            from twisted.internet import task
            # (no answer at all once the router has hung up)
            return task.deferLater(reactor, self._opts["challenge_delay"], lambda: (
                self._answer(challenge) if self._transport else defer.Deferred()))
        return self._answer(challenge)

    def _answer(self, challenge):
        o = self._opts
        if challenge.method in ("ticket", "trusted"):  # trusted: wampd's router components
            return o["secret"]
        if challenge.method == "wampcra":
            key = o["secret"]
            if "salt" in challenge.extra:
                key = wamp_auth.derive_key(o["secret"], challenge.extra["salt"],
                                           challenge.extra["iterations"],
                                           challenge.extra["keylen"])
            return wamp_auth.compute_wcs(key, challenge.extra["challenge"])
        if challenge.method == "cryptosign":
            if o.get("channel_binding"):
                # the channel id of this very TLS connection (Autobahn computes it from the
                # TLS Finished message), or the one given to prove a mismatch is refused
                cid = o.get("channel_id") or \
                    self._transport.transport_details.channel_id.get(o["channel_binding"])
                return self._key.sign_challenge(challenge, channel_id=cid,
                                                channel_id_type=o["channel_binding"])
            return self._key.sign_challenge(challenge)
        if challenge.method == "scram":
            return self._scram.on_challenge(self, challenge).decode("ascii")
        raise Exception("unexpected challenge %s" % challenge.method)

    def onWelcome(self, welcome):
        """A string refuses the WELCOME (Autobahn then sends ABORT cannot_authenticate).
        Like Autobahn's own authenticator sessions, the authenticator is looked up by
        WELCOME.authmethod: the router must name the method the client used."""
        if self._scram is not None and welcome.authmethod == "scram":
            err = self._scram.on_welcome(self, welcome.authextra or {})
            self.scram_server_verified = err is None
            return err
        return None

    def onJoin(self, details):
        self.details = details
        if not self._joined.called:
            self._joined.callback(self)

    def onLeave(self, details):
        if not self._joined.called:
            self._joined.errback(JoinFailed(details.reason, details.message or ""))
        if not self.left.called:
            self.left.callback(details)
        self.disconnect()

    def onMessage(self, msg):
        try:
            ApplicationSession.onMessage(self, msg)
        except ProtocolError as e:
            self.protocol_errors.append("%s (%s)" % (e, msg))
            raise

    def onDisconnect(self):
        if not self.disconnected.called:
            self.disconnected.callback(None)
        if not self._joined.called:
            self._joined.errback(JoinFailed("transport closed"))
        if not self.left.called:
            self.left.callback(None)

    def leave_and_wait(self):
        self.leave()
        return self.left

    @defer.inlineCallbacks
    def leave_and_check(self, timeout=5):
        """Leave, wait for the transport to close, and fail if the router sent anything
        Autobahn took for a protocol violation (e.g. a message after its GOODBYE)."""
        self.leave()
        yield wait_for(self.left, timeout, "GOODBYE")
        yield wait_for(self.disconnected, timeout, "the transport to close")
        assert not self.protocol_errors, self.protocol_errors


def client_url(url):
    """The router prints its bind address; clients connect to loopback."""
    return url.replace("0.0.0.0", "127.0.0.1")


def connect(url, realm, serializer="json", timeout=10, tls=None, **opts):
    """A Deferred firing with the joined TestSession, or failing with JoinFailed.

    url: ws://host:port/path (WebSocket), rs://host:port (RawSocket over TCP) or
    unix:/path (RawSocket over a Unix domain socket); wss:// and rss:// are the same over
    TLS with `tls` the client's Twisted TLS options (certs.twisted_options)."""
    url = client_url(url)
    joined = defer.Deferred()
    u = urllib.parse.urlparse(url)

    def make():
        return TestSession(ComponentConfig(realm), opts, joined)
    # "json.batched" etc.: the batched WebSocket subprotocol of that serializer
    base, _, batched = serializer.partition(".")
    ser = SERIALIZERS[base](batched=True) if batched else SERIALIZERS[base]()
    if u.scheme in ("rs", "rss", "unix"):
        factory = WampRawSocketClientFactory(make, serializer=ser)
    else:
        factory = WampWebSocketClientFactory(make, url=url, serializers=[ser])
    if u.scheme == "unix":
        endpoint = UNIXClientEndpoint(reactor, u.path)
    elif u.scheme in ("wss", "rss"):
        endpoint = SSL4ClientEndpoint(reactor, u.hostname, u.port, tls)
    else:
        endpoint = TCP4ClientEndpoint(reactor, u.hostname, u.port)
    d = endpoint.connect(factory)

    def connected(proto):
        # a connection lost before WELCOME (e.g. a TLS handshake the router refused)
        lost = proto.connectionLost

        def connection_lost(reason):
            try:
                return lost(reason)
            finally:
                if not joined.called:
                    joined.errback(JoinFailed("transport closed", str(reason.value)))
        proto.connectionLost = connection_lost
        return proto
    d.addCallback(connected)
    d.addErrback(lambda f: joined.called or joined.errback(JoinFailed("connect failed",
                                                                      str(f.value))))
    timer = reactor.callLater(timeout, lambda: joined.called or joined.errback(
        JoinFailed("timeout", "no WELCOME within %ss" % timeout)))
    joined.addBoth(lambda r: (timer.active() and timer.cancel(), r)[1])
    return joined


def expect_error(d, uri):
    """A Deferred that succeeds iff d fails with an ApplicationError of this URI."""
    def ok(result):
        raise AssertionError("expected %s, got result %r" % (uri, result))

    def failed(f):
        err = getattr(f.value, "error", None) or getattr(f.value, "reason", None)
        if err != uri:
            raise AssertionError("expected %s, got %s" % (uri, f.value))
        return err
    return d.addCallbacks(ok, failed)


def wait_for(deferred, timeout, what):
    """deferred, but failing after `timeout` seconds with a message naming `what`."""
    d = defer.Deferred()
    timer = reactor.callLater(timeout, lambda: d.called or d.errback(
        AssertionError("timeout waiting for %s" % what)))

    def done(r):
        if timer.active():
            timer.cancel()
        if not d.called:
            d.callback(r)

    def failed(f):
        if timer.active():
            timer.cancel()
        if not d.called:
            d.errback(f)
    deferred.addCallbacks(done, failed)
    return d


def run(main, timeout=60):
    """Run main() (returning a Deferred) on the reactor; exit 0 on success, 1 otherwise."""
    result = {}

    def start():
        d = defer.maybeDeferred(main)

        def ok(_):
            result["ok"] = True

        def err(f):
            result["error"] = f
        d.addCallbacks(ok, err)
        d.addBoth(lambda _: reactor.stop())

    def too_slow():
        result["error"] = "timeout after %ss" % timeout
        reactor.stop()
    reactor.callWhenRunning(start)
    killer = reactor.callLater(timeout, too_slow)
    reactor.run()
    if killer.active():
        killer.cancel()
    if "error" in result:
        f = result["error"]
        if hasattr(f, "printTraceback"):
            f.printTraceback(file=sys.stderr)
        else:
            print(f, file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


class ChildClient:
    """An Autobahn|Python session in a process of its own, to be killed without a GOODBYE.

    `body` is the rest of its main(), run once `s` (the joined session) exists; what it
    prints arrives line by line through next_line(). The child never leaves by itself.

        child = ChildClient('yield s.register(f, "com.x")\nprint("ready", flush=True)',
                            url, "json")
        assert (yield child.next_line(10, "registration")) == "ready"
        child.kill()
    """

    HEADER = ("import sys\nsys.path.insert(0, %r)\n"
              "from twisted.internet import defer, reactor\n"
              "from wampclient import connect, run\n"
              "@defer.inlineCallbacks\ndef main():\n"
              "    s = yield connect(%r, %r, %r)\n")

    def __init__(self, body, url, serializer, realm="realm1"):
        script = (self.HEADER % (os.path.dirname(os.path.abspath(__file__)), url, realm,
                                 serializer) +
                  textwrap.indent(textwrap.dedent(body).strip() + "\n", "    ") +
                  "    yield defer.Deferred()\nrun(main, timeout=60)\n")
        self.proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        self._lines = defer.DeferredQueue()
        reactor.callInThread(self._read)

    def _read(self):  # in a thread; each line handed to the reactor
        for line in iter(self.proc.stdout.readline, b""):
            reactor.callFromThread(self._lines.put, line.decode(errors="replace").strip())

    def next_line(self, timeout, what):
        return wait_for(self._lines.get(), timeout, what)

    def kill(self):
        """SIGKILL: the router sees the connection drop, no GOODBYE."""
        self.proc.kill()
        self.proc.wait()
